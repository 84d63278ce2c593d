using System.Globalization;

namespace SegmentPortal.Core.Queries;

/// <summary>Calendar periods as the warehouse buckets them (weeks start on Monday, like DuckDB's date_trunc).</summary>
public static class Periods
{
    /// <summary>The first day of the period holding <paramref name="date"/>.</summary>
    public static DateOnly Start(DateOnly date, DateBucket bucket) => bucket switch
    {
        DateBucket.Day => date,
        DateBucket.Week => date.AddDays(-(((int)date.DayOfWeek + 6) % 7)),
        DateBucket.Month => new DateOnly(date.Year, date.Month, 1),
        DateBucket.Quarter => new DateOnly(date.Year, (date.Month - 1) / 3 * 3 + 1, 1),
        DateBucket.Year => new DateOnly(date.Year, 1, 1),
        _ => throw new ArgumentOutOfRangeException(nameof(bucket)),
    };

    /// <summary>The start of the period <paramref name="count"/> periods after the one starting at <paramref name="start"/>.</summary>
    public static DateOnly Add(DateOnly start, DateBucket bucket, int count) => bucket switch
    {
        DateBucket.Day => start.AddDays(count),
        DateBucket.Week => start.AddDays(7 * count),
        DateBucket.Month => start.AddMonths(count),
        DateBucket.Quarter => start.AddMonths(3 * count),
        DateBucket.Year => start.AddYears(count),
        _ => throw new ArgumentOutOfRangeException(nameof(bucket)),
    };

    /// <summary>The last day of the period starting at <paramref name="start"/>.</summary>
    public static DateOnly End(DateOnly start, DateBucket bucket) => Add(start, bucket, 1).AddDays(-1);
    /// <summary>
    /// The previous period up to the same day as <paramref name="through"/> in the current one (starting at
    /// <paramref name="current"/>): as many days from its start, but not past its end (31 March → 28 or 29 February).
    /// </summary>
    public static (DateOnly From, DateOnly Through) SameDaysBefore(DateOnly current, DateBucket bucket, DateOnly through)
    {
        var previous = Add(current, bucket, -1);
        var day = previous.AddDays(through.DayNumber - current.DayNumber);
        var end = End(previous, bucket);
        return (previous, day > end ? end : day);
    }

    /// <summary>"Month to date vs same days of November", "Week to date vs same days of the week of 2024-03-04".</summary>
    public static string SameDaysLabel(DateOnly previous, DateBucket bucket) => bucket switch
    {
        DateBucket.Week => $"Week to date vs same days of the week of {previous.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}",
        DateBucket.Month => $"Month to date vs same days of {previous.ToString("MMMM", CultureInfo.InvariantCulture)}",
        DateBucket.Quarter => $"Quarter to date vs same days of {Label(previous, bucket)}",
        DateBucket.Year => $"Year to date vs same days of {Label(previous, bucket)}",
        _ => $"vs {Label(previous, bucket)}",
    };


    /// <summary>The next finer period to drill into (year → quarter → month → week → day), or null below days.</summary>
    public static DateBucket? Finer(DateBucket bucket) => bucket switch
    {
        DateBucket.Year => DateBucket.Quarter,
        DateBucket.Quarter => DateBucket.Month,
        DateBucket.Month => DateBucket.Week,
        DateBucket.Week => DateBucket.Day,
        _ => null,
    };

    public static string Label(DateOnly start, DateBucket bucket) => bucket switch
    {
        DateBucket.Day => start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateBucket.Week => "Week of " + start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateBucket.Month => start.ToString("MMMM yyyy", CultureInfo.InvariantCulture),
        DateBucket.Quarter => $"Q{(start.Month - 1) / 3 + 1} {start.Year}",
        DateBucket.Year => start.Year.ToString(CultureInfo.InvariantCulture),
        _ => throw new ArgumentOutOfRangeException(nameof(bucket)),
    };

    /// <summary>Whole calendar months from one month to another (both taken at their first day).</summary>
    public static int MonthsBetween(DateOnly from, DateOnly to) => (to.Year - from.Year) * 12 + to.Month - from.Month;

    /// <summary>A date read from the warehouse (DATE, TIMESTAMP) or from text, or null.</summary>
    public static DateOnly? AsDate(object? value) => value switch
    {
        DateOnly d => d,
        DateTime t => DateOnly.FromDateTime(t),
        DateTimeOffset o => DateOnly.FromDateTime(o.DateTime),
        string s when DateOnly.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed) => parsed,
        _ => null,
    };
}
