from datetime import datetime, UTC, timedelta
from bot.scheduling.timing import digest_trigger, next_fire_time, latest_fire_time
from zoneinfo import ZoneInfo
L=ZoneInfo("Europe/London")
for expr in ["30 * * * *", "0 * * * *", "*/20 * * * *"]:
    t = digest_trigger(expr, "Europe/London")
    now = datetime(2026,10,24,22,50,tzinfo=UTC)
    prev=None
    out=[]
    # simulate scheduler: previous_fire_time, now=previous
    f = t.get_next_fire_time(None, now)
    for i in range(8):
        out.append(f"{f.astimezone(UTC):%H:%M}Z/{f.astimezone(L):%H:%M%Z}")
        f = t.get_next_fire_time(f, f.astimezone(UTC)+timedelta(microseconds=1))
    print(expr, out)
    out=[]
    f = next_fire_time(t, now)
    for i in range(8):
        out.append(f"{f.astimezone(UTC):%H:%M}Z/{f.astimezone(L):%H:%M%Z}")
        f = next_fire_time(t, f)
    print(expr, out)
