"""A digest under review as plain text (`roundtable digest review`): each question with its
lead and numbered themes (how many of a theme's answers are not quoted), each quote with the
id an edit names it by and the attribution the group will read beside it, the other answers,
the replies set aside as not answers (a facilitator may take one for an answer), a vote's
reasons and comments, and the answers hidden in review with their words, for the
facilitator to decide whether to quote one again. Also the lines every platform's draft
shares."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.core import audit
from bot.core.dates import local_time
from bot.core.digest.build import MIN_ROLE_GROUP
from bot.core.digest.model import DigestView, Draft, PromptDigest, ThemeView
from bot.core.digest.synthesis import OTHER_ANSWERS_SHOWN, other_answers
from bot.core.digest.theme_views import quote_text
from bot.core.said import Code, Said, Someone, said
from bot.core.wording import PLATFORM_NAMES, counted

QUOTE_SHOWN = 160
ATTRIBUTION = {
    "named": "Quotes are posted with the writer's name (and role).",
    "role": ("Quotes are posted with the writer's role (and organisation) where at least "
             f"{MIN_ROLE_GROUP} who answered share it, and unattributed otherwise."),
    "anonymous": "Quotes are posted without names or roles.",
}
"""How a round's anonymity attributes quotes, said once at the top of a draft."""


def theme_id(prompt_id: str, number: int) -> str:
    """A theme as the facilitator names it in an edit: "best-support/2"."""
    return f"{prompt_id}/{number}"


def review_text(view: DigestView, draft: Draft | None,
                hidden_words: Mapping[str, str] | None = None, zone: str = "UTC") -> str:
    """The draft (or the digest as it would be built now, `draft` None); each answer hidden
    in review by its words in `hidden_words` (digest_review.hidden_words), else by its id;
    times in `zone`."""
    words = hidden_words or {}
    info = view.round
    lines = [f"Round {info.id} · {info.title}"]
    if draft is None:
        lines.append("No digest is waiting for review: this is the digest as it would be built "
                     "now. Edits made here apply to the round's next digests.")
    elif draft.waiting:
        lines.append(f"Digest of {_when(draft.period, zone)} waits for approval. "
                     + local_deadline(draft, zone))
    elif draft.approvable:  # released, and refused for good by the platform
        released = ("was not posted at its review deadline" if draft.approved_by
                    == audit.SCHEDULER else
                    f"was approved{approver(draft.approved_by, '').plain} but not posted")
        lines.append(f"Digest of {_when(draft.period, zone)} {released}: the digest channel "
                     "refused it" + refused_then(
                         draft, f"roundtable digest review {info.id} --approve posts it").plain)
    lines.append("The group is pointed to the full synthesis for every answer; to make it: "
                 f"roundtable export --round {info.id} --format docx (or md, html, csv).")
    lines.append(attribution_rule(info.anonymity))
    for prompt in view.prompts:
        lines += ["", f"[{prompt.prompt_id}] {prompt.question}"]
        if prompt.lead:
            lines.append(f"  Lead: {prompt.lead}")
        if prompt.kind != "text":
            lines.append("  No votes yet." if not prompt.answer_count and not prompt.comments
                         else f"  {counted(prompt.answer_count, 'ballot')}")
            lines += _vote_words(prompt, info.anonymity)
            lines += _hidden_lines(prompt, words)
            continue
        if not prompt.answers:
            lines.append("  No answers yet.")
            continue
        for number, theme in enumerate(prompt.themes, start=1):
            lines.append(f"  {theme_id(prompt.prompt_id, number)}  {theme.title} "
                         f"({theme_size(theme)})")
            for quote in theme.quotes:
                lines.append(f"      {quote.reply_id}  “{quote_text(quote.text, QUOTE_SHOWN)}”"
                             + attributed(quote.by, info.anonymity))
        quoted = {q.reply_id for t in prompt.themes for q in t.quotes}
        themed = {r for t in prompt.themes for r in t.reply_ids}
        rest = [a for a in prompt.answers
                if a.reply_id not in quoted and not a.noise and a.quotable]
        if rest:
            lines.append(_rest_heading(bool(quoted), bool(themed)))
        for answer in rest:
            where = next((theme_id(prompt.prompt_id, n) for n, t in enumerate(prompt.themes, 1)
                          if answer.reply_id in t.reply_ids), "other")
            lines.append(f"      {answer.reply_id}  " + (f"[{where}]  " if themed else "")
                         + f"“{quote_text(answer.text, QUOTE_SHOWN)}”")
        aside = [a for a in prompt.answers if a.noise]
        if aside:
            lines.append("  Set aside as not answers (one you move to "
                         + ("a theme or to " if prompt.themes else "")
                         + "other answers counts as an answer):")
        for answer in aside:
            lines.append(f"      {answer.reply_id}  “{quote_text(answer.text, QUOTE_SHOWN)}”")
        lines += _hidden_lines(prompt, words)
    return "\n".join(lines) + "\n"


def _vote_words(prompt: PromptDigest, anonymity: str) -> list[str]:
    """A vote's reasons (under the option their ballot put first) and comments: quoted to
    the group like a theme's quotes, so shown with the ids `--hide` takes."""
    lines: list[str] = []
    for reasons in prompt.reasons:
        lines.append(f"  Reasons of those who put “{reasons.option}” first:")
        lines += [f"      {q.reply_id}  “{quote_text(q.text, QUOTE_SHOWN)}”"
                  + attributed(q.by, anonymity) for q in reasons.quotes]
    if prompt.comments:
        lines.append("  Comments on the question:")
    lines += [f"      {q.reply_id}  “{quote_text(q.text, QUOTE_SHOWN)}”"
              + attributed(q.by, anonymity) for q in prompt.comments]
    return lines


def attribution_rule(anonymity: str) -> str:
    """How the round's quotes are attributed, in a line."""
    return ATTRIBUTION.get(anonymity, ATTRIBUTION["anonymous"])


def attributed(by: str | None, anonymity: str) -> str:
    """What follows a quote in a draft: its attribution as the group will read it (" — PCN
    pharmacist"); nothing in an anonymous round, where attribution_rule said so once."""
    if anonymity == "anonymous":
        return ""
    return f" — {by}" if by else " — unattributed"


UNQUOTED_POINTER = ("A theme's answers not quoted are listed in its question's Edit form, "
                    "under “Move answers”, each marked with its theme's number.")
"""Where a chat draft's facilitator reads the answers of a theme the draft does not quote
(the command line's draft lists them)."""


def review_command(round_id: int) -> Code:
    """The command that shows and edits a round's draft on the server, as code."""
    return Code(f"roundtable digest review {round_id}")


def cut_words(platform: str, round_id: int) -> Said:
    """What ends a draft cut to fit `platform`'s limits: where the whole draft is."""
    return said(f"…cut here to fit {platform}; ", review_command(round_id),
                " on the server shows the whole draft (and the export every answer).")


def form_too_big_words(platform: str, round_id: int, prompt_id: str) -> Said:
    """What a draft says when a question's edit form does not fit `platform`'s limits even
    listing no answers to move: where the question can be edited instead, and how."""
    return said(f"The edit form of {prompt_id} could not open: the question is too big for "
                f"{platform}. ", review_command(round_id),
                f" on the server edits it: --rename {prompt_id}/N TITLE, --merge, --move, "
                "--new-theme, --hide, --show, --lead (--help says how).")


LISTS_CUT = {"themes": "renames or merges any", "answers": "moves any",
             "quotes": "hides any", "hidden answers": "quotes any again"}
"""What a form's lists hold, and what the command line does with any of them."""


def form_cut_words(platform: str, round_id: int, listed: int, in_all: int, what: str
                   ) -> Said:
    """What an edit form says under a list cut to fit `platform` (`what`: one of LISTS_CUT):
    how many it lists, and where any of them can be edited instead."""
    listing = (f"the first {listed} of the {in_all} {what} (a {platform} form has room for "
               "no more)" if listed else
               f"0 of the {in_all} {what} (a {platform} form has no room for them)")
    return said(f"Listed: {listing}; ", review_command(round_id),
                f" on the server {LISTS_CUT[what]}.")


def theme_size(theme: ThemeView) -> str:
    """"6 answers, 3 not quoted": a theme's answers, and how many the digest does not quote
    (it quotes a few of each theme)."""
    left = len(theme.reply_ids) - len(theme.quotes)
    return counted(len(theme.reply_ids), "answer") + (f", {left} not quoted" if left
                                                      else ", all quoted")


def _hidden_lines(prompt: PromptDigest, words: Mapping[str, str]) -> list[str]:
    hidden = [a.reply_id for a in prompt.answers if a.hidden]
    lines = ["  Hidden in review (each may be quoted again):"] if hidden else []
    for reply_id in hidden:
        text = f"  “{quote_text(words[reply_id], QUOTE_SHOWN)}”" if reply_id in words else ""
        lines.append(f"      {reply_id}{text}")
    return lines


def _rest_heading(quoted: bool, themed: bool) -> str:
    """The heading of a question's answers the draft does not quote. ("Not quoted" read as
    if they were not shown: the digest lists the other answers.)"""
    if not themed:
        return "  Answers (the question has no themes yet: the digest lists them all):"
    return ("  Answers not among the quotes above (in a theme, or listed under other answers):"
            if quoted else "  Answers (in a theme, or listed under other answers):")


def not_listed_line(prompt: PromptDigest) -> str:
    """Under the other answers a draft lists, those the chat digest will not list ("" when
    it lists them all)."""
    more = len(other_answers(prompt)) - OTHER_ANSWERS_SHOWN
    return (f"…and {more} more, not listed in the digest (it points to the full synthesis)"
            if more > 0 else "")


def deadline_line(unreviewed: str, when: str) -> str:
    """What becomes of a waiting draft: nothing is posted before a facilitator approves it
    (or, where unapproved digests post, before its deadline), and what happens if nobody has
    by `when`, its deadline as the platform shows a time. Said alike by every platform."""
    if unreviewed == "post":
        return ("Nothing is posted until a facilitator approves it or its deadline passes. If "
                f"nobody has approved it by {when}, it is posted as built.")
    return ("Nothing is posted until a facilitator approves it. If nobody has approved it by "
            f"{when}, it keeps waiting for approval.")


POSTED_LATER = "Roundtable tries again within about a quarter of an hour"
"""When an approved digest the platform failed is posted (digest_posts.recover_digests takes
a claim STALE_DIGEST_CLAIM old, at its next sweep)."""


def settled_words(draft: Draft, platform: str) -> Said:
    """What became of a draft no longer waiting, by who released it (Draft.approved_by, as
    the audit log names them): the schedule, or whoever `approver` names; and when the
    platform refused its post for good (state failed), why if known and what posts it."""
    by = draft.approved_by
    if draft.state == "failed":
        at_deadline = by == audit.SCHEDULER
        then = "approve it to post it" if at_deadline else "approve it again"
        what = (said("Not posted at its review deadline") if at_deadline
                else said("Approved", approver(by, platform), ", but not posted"))
        return said(what, ": the digest channel refused it", refused_then(draft, then))
    if draft.state == "claimed":  # approved, or due at its deadline, and not posted yet
        what = (said("Due at its review deadline") if by == audit.SCHEDULER
                else said("Approved", approver(by, platform)))
        return said(what, f", and not posted yet: {POSTED_LATER}.")
    if by == audit.SCHEDULER:
        return said("Posted as built at its review deadline.")
    return said("Approved", approver(by, platform), " and posted.")


def refused_then(draft: Draft, then: str) -> Said:
    """After "the digest channel refused it": why and what to fix, as the platform said when
    it refused (Draft.refused), then `then`, what posts it once that is fixed; only `then`
    after "Once that is fixed" when why is not known."""
    if draft.refused is not None:
        return said(": ", draft.refused.then(then))
    return said(". Once that is fixed, ", then, ".")


def approver(approved_by: str | None, platform: str) -> Said:
    """Who approved a draft (as the audit log names them, `platform:user id`), as words after
    "approved" for someone on `platform`: a person there by the name the platform shows,
    anyone else by where they approved it, never by an id."""
    on, _, user_id = (approved_by or "").partition(":")
    if approved_by == audit.OPERATOR:
        return said(" at the command line")
    if user_id and on == platform:
        return said(" by ", Someone(user_id))
    if user_id:
        return said(f" by a facilitator in {PLATFORM_NAMES.get(on, on)}")
    return said()


def local_deadline(draft: Draft, zone: str) -> str:
    """deadline_line with the draft's deadline in `zone`."""
    return deadline_line(draft.unreviewed, _when(draft.review_until, zone))


def _when(iso: str | None, zone: str) -> str:
    """A stored moment (an ISO time; a period may be any text) as people read it."""
    try:
        return local_time(datetime.fromisoformat(iso or ""), zone)
    except ValueError:
        return iso or "its deadline"
