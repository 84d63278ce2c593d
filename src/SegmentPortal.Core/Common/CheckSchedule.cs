using System.Globalization;
using Cronos;

namespace SegmentPortal.Core.Common;

/// <summary>How often something runs on its own (an alert's check, a subscription's message).</summary>
public enum ScheduleFrequency
{
    /// <summary>Only after each refresh of the data it reads; no clock.</summary>
    AfterRefresh,

    /// <summary>Every hour, at <see cref="CheckSchedule.At"/>'s minute.</summary>
    Hourly,

    /// <summary>Every day at <see cref="CheckSchedule.At"/>.</summary>
    Daily,

    /// <summary>Every week on <see cref="CheckSchedule.Day"/> at <see cref="CheckSchedule.At"/>.</summary>
    Weekly,

    /// <summary>Every month on <see cref="CheckSchedule.DayOfMonth"/> at <see cref="CheckSchedule.At"/>.</summary>
    Monthly,
}

/// <summary>
/// When something runs on its own: a frequency, a time of day and a day, in a named time zone (IANA, such as
/// "Asia/Shanghai", or "UTC"). The next run is found with Cronos, which keeps a daily 09:00 at 09:00 local time across
/// daylight-saving changes (a time skipped by the change runs at the end of the gap; a time that happens twice, once).
/// </summary>
public sealed record CheckSchedule
{
    public ScheduleFrequency Frequency { get; init; } = ScheduleFrequency.AfterRefresh;

    /// <summary>The time of day (only its minute for <see cref="ScheduleFrequency.Hourly"/>).</summary>
    public TimeOnly At { get; init; } = new(8, 0);

    public DayOfWeek Day { get; init; } = DayOfWeek.Monday;

    /// <summary>1–28, or <see cref="LastDay"/> for the month's last day.</summary>
    public int DayOfMonth { get; init; } = 1;

    public string TimeZone { get; init; } = "UTC";

    public const int LastDay = 31;

    public static CheckSchedule AfterRefreshOnly { get; } = new();

    /// <summary>Why the schedule cannot be used, in the user's words; null when it can.</summary>
    public string? Validate()
    {
        if (!Enum.IsDefined(Frequency))
        {
            return "Choose how often it runs.";
        }
        if (Frequency == ScheduleFrequency.Monthly && DayOfMonth is not (>= 1 and <= 28 or LastDay))
        {
            return "Choose a day of the month from 1 to 28, or the last day.";
        }
        if (Frequency == ScheduleFrequency.Weekly && !Enum.IsDefined(Day))
        {
            return "Choose a day of the week.";
        }
        return FindZone(TimeZone) is null ? $"“{TimeZone}” is not a time zone this server knows; choose one from the list." : null;
    }

    /// <summary>The cron expression (minute hour day month weekday); null for <see cref="ScheduleFrequency.AfterRefresh"/>.</summary>
    public string? Cron => Frequency switch
    {
        ScheduleFrequency.Hourly => Invariant($"{At.Minute} * * * *"),
        ScheduleFrequency.Daily => Invariant($"{At.Minute} {At.Hour} * * *"),
        ScheduleFrequency.Weekly => Invariant($"{At.Minute} {At.Hour} * * {(int)Day}"),
        ScheduleFrequency.Monthly => DayOfMonth == LastDay
            ? Invariant($"{At.Minute} {At.Hour} L * *")
            : Invariant($"{At.Minute} {At.Hour} {DayOfMonth} * *"),
        _ => null,
    };

    /// <summary>The first run strictly after <paramref name="after"/>; null when the schedule has no clock.</summary>
    public DateTimeOffset? NextAfter(DateTimeOffset after)
    {
        if (Cron is not { } cron || FindZone(TimeZone) is not { } zone)
        {
            return null;
        }
        return CronExpression.Parse(cron).GetNextOccurrence(after, zone, inclusive: false);
    }

    /// <summary>The schedule in words ("Daily at 08:00 (Asia/Shanghai)").</summary>
    public string Describe() => Frequency switch
    {
        ScheduleFrequency.Hourly => Invariant($"Hourly at minute {At.Minute:00}"),
        ScheduleFrequency.Daily => Invariant($"Daily at {At:HH\\:mm} ({TimeZone})"),
        ScheduleFrequency.Weekly => Invariant($"Weekly on {Day} at {At:HH\\:mm} ({TimeZone})"),
        ScheduleFrequency.Monthly => DayOfMonth == LastDay
            ? Invariant($"Monthly on the last day at {At:HH\\:mm} ({TimeZone})")
            : Invariant($"Monthly on day {DayOfMonth} at {At:HH\\:mm} ({TimeZone})"),
        _ => "After each refresh of its data",
    };

    /// <summary>The time zones the server knows, by id, for a chooser.</summary>
    public static IReadOnlyList<string> TimeZones() =>
        [.. TimeZoneInfo.GetSystemTimeZones().Select(z => z.Id).Append("UTC").Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    public static TimeZoneInfo? FindZone(string? id)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return null;
        }
        return TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) ? zone : null;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
