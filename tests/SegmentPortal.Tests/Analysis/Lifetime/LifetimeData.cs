using System.Globalization;
using MathNet.Numerics.Distributions;
using SegmentPortal.Core.Analysis.Lifetime;

namespace SegmentPortal.Tests.Analysis.Lifetime;

/// <summary>The CDNOW sample as FHL 2005 use it, and seeded synthetic customers drawn from known model parameters.</summary>
internal static class LifetimeData
{
    public static readonly DateOnly Start = new(1997, 1, 1);
    public static readonly DateOnly CalibrationEnd = new(1997, 9, 30);
    public static readonly DateOnly HoldoutEnd = new(1998, 6, 30);

    /// <summary>The holdout 1997-10-01 … 1998-06-30 in weeks (273 days).</summary>
    public static readonly double HoldoutWeeks = (HoldoutEnd.DayNumber - CalibrationEnd.DayNumber) / 7.0;

    /// <summary>One CDNOW customer: calibration summary in weeks, holdout repeat purchases and calibration spend.</summary>
    public sealed record CdnowCustomer(
        string Id, CustomerHistory History, double FirstPurchaseWeek, double HoldoutPurchases, double MeanRepeatSpend,
        IReadOnlyList<double> RepeatWeeks);

    private static readonly Lazy<IReadOnlyList<CdnowCustomer>> Cdnow = new(LoadCdnow);

    /// <summary>
    /// The 2,357 customers of the CDNOW sample (Data/cdnow/CDNOW_sample.txt, copied to the test output): purchases on the
    /// same day count once and their dollar values are summed; X, Tx and T in weeks (days / 7) to 1997-09-30; mean
    /// repeat spend over the calibration repeat days (the first purchase excluded).
    /// </summary>
    public static IReadOnlyList<CdnowCustomer> CdnowCustomers => Cdnow.Value;

    private static IReadOnlyList<CdnowCustomer> LoadCdnow()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Data", "cdnow", "CDNOW_sample.txt");
        var days = new Dictionary<string, SortedDictionary<DateOnly, double>>();
        foreach (var line in File.ReadLines(path))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 5)
            {
                continue;
            }
            var date = DateOnly.ParseExact(parts[2], "yyyyMMdd", CultureInfo.InvariantCulture);
            var value = double.Parse(parts[4], CultureInfo.InvariantCulture);
            if (!days.TryGetValue(parts[0], out var byDay))
            {
                byDay = [];
                days[parts[0]] = byDay;
            }
            byDay[date] = byDay.GetValueOrDefault(date) + value;
        }
        var customers = new List<CdnowCustomer>();
        foreach (var (id, byDay) in days.OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            var first = byDay.Keys.First();
            var calibration = byDay.Where(d => d.Key <= CalibrationEnd).ToList();
            var repeats = calibration.Skip(1).ToList();
            var last = calibration[^1].Key;
            var history = new CustomerHistory(
                repeats.Count,
                (last.DayNumber - first.DayNumber) / 7.0,
                (CalibrationEnd.DayNumber - first.DayNumber) / 7.0);
            var holdout = byDay.Count(d => d.Key > CalibrationEnd && d.Key <= HoldoutEnd);
            var meanSpend = repeats.Count > 0 ? repeats.Average(d => d.Value) : 0;
            var repeatWeeks = byDay.Keys.Skip(1).Where(d => d <= HoldoutEnd).Select(d => (d.DayNumber - Start.DayNumber) / 7.0).ToList();
            customers.Add(new CdnowCustomer(id, history, (first.DayNumber - Start.DayNumber) / 7.0, holdout, meanSpend, repeatWeeks));
        }
        return customers;
    }

    /// <summary>
    /// Customers drawn from the BG/NBD with known parameters, as the model tells it: λ ~ Gamma(r, rate α), p ~ Beta(a, b);
    /// purchases follow a Poisson process of rate λ from the first purchase at 0, and after each repeat purchase the
    /// customer drops out with probability p. Each customer's observation length T is drawn from
    /// [<paramref name="minT"/>, <paramref name="maxT"/>]; with <paramref name="wholeUnits"/> purchase times are
    /// rounded down to whole units (days), several purchases in one unit counting once, as the portal summarises.
    /// </summary>
    public static CustomerHistory[] DrawBgNbd(int count, double r, double alpha, double a, double b, double minT, double maxT, int seed, bool wholeUnits = false)
    {
        var random = new Random(seed);
        var customers = new CustomerHistory[count];
        for (var i = 0; i < count; i++)
        {
            var lambda = Gamma.Sample(random, r, alpha);
            var p = Beta.Sample(random, a, b);
            var T = minT + random.NextDouble() * (maxT - minT);
            if (wholeUnits)
            {
                T = Math.Floor(T);
            }
            double time = 0, last = 0;
            var x = 0;
            double lastUnit = 0;
            while (true)
            {
                time += Exponential.Sample(random, lambda);
                if (time > T)
                {
                    break;
                }
                if (wholeUnits)
                {
                    var unit = Math.Floor(time);
                    if (unit > lastUnit)
                    {
                        x++;
                        lastUnit = unit;
                        last = unit;
                    }
                }
                else
                {
                    x++;
                    last = time;
                }
                if (random.NextDouble() < p)
                {
                    break;
                }
            }
            customers[i] = new CustomerHistory(x, last, T);
        }
        return customers;
    }

    /// <summary>
    /// Repeat customers drawn from the Gamma-Gamma model: ν ~ Gamma(q, rate γ) per customer, x repeat transactions
    /// (uniform 1..<paramref name="maxX"/>) each worth Gamma(p, rate ν); returns (x, mean value).
    /// </summary>
    public static (double X, double MeanSpend)[] DrawGammaGamma(int count, double p, double q, double gamma, int maxX, int seed)
    {
        var random = new Random(seed);
        var customers = new (double, double)[count];
        for (var i = 0; i < count; i++)
        {
            var nu = Gamma.Sample(random, q, gamma);
            var x = random.Next(1, maxX + 1);
            double sum = 0;
            for (var k = 0; k < x; k++)
            {
                sum += Gamma.Sample(random, p, nu);
            }
            customers[i] = (x, sum / x);
        }
        return customers;
    }
}
