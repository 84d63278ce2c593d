namespace SegmentPortal.Tests.Infrastructure;

/// <summary>A clock that always says the same instant (UTC), for relative dates in tests.</summary>
public sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
}
