using System.Globalization;
using System.Text;
using MathNet.Numerics.Distributions;

namespace SegmentPortal.Benchmarks.Scenarios;

/// <summary>
/// Writes a customer list and its orders as two CSV files, the same bytes every time (seeded), streamed to disk.
/// Customers: customer_id, region, tier, signup_date, is_active, lifetime_value. Orders: order_id, customer_id,
/// order_date (a timestamp in the four years up to and including <see cref="Today"/>), amount (two decimals),
/// category. Orders lean on a long tail of customers (the first customers order most; a few have no orders at all),
/// so rules on order counts and recent spend match a real share of customers, not all or none.
/// </summary>
public static class CustomerOrdersCsvGenerator
{
    public const string CustomersHeader = "customer_id,region,tier,signup_date,is_active,lifetime_value";
    public const string OrdersHeader = "order_id,customer_id,order_date,amount,category";

    /// <summary>The last day of the orders: the "today" the rules' relative windows are counted back from.</summary>
    public static readonly DateOnly Today = new(2025, 6, 30);

    /// <summary>The first customer id; ids are consecutive from here.</summary>
    public const long FirstCustomerId = 1_000_000;

    public static readonly string[] Regions = ["North", "East", "South", "West", "Central"];

    private static readonly (string Name, double Below)[] Tiers = [("Bronze", 0.50), ("Silver", 0.80), ("Gold", 0.95), ("Platinum", 1.0)];

    public static readonly string[] Categories =
    [
        "Electronics", "Home & Garden", "Toys", "Books", "Clothing", "Shoes", "Beauty", "Sports & Outdoors",
        "Grocery", "Office Supplies", "Pet Supplies", "Jewelry",
    ];

    private const int OrderSpanDays = 4 * 365;

    /// <summary>Writes <paramref name="customers"/> customer rows to <paramref name="path"/> (via a temporary name).</summary>
    public static Task WriteCustomersAsync(string path, long customers, CancellationToken cancellationToken) =>
        WriteAsync(path, CustomersHeader, customers, 20250630, AppendCustomer, null, cancellationToken);

    /// <summary>Writes <paramref name="orders"/> order rows over <paramref name="customers"/> customers to <paramref name="path"/>.</summary>
    public static Task WriteOrdersAsync(string path, long orders, long customers, IProgress<long>? progress, CancellationToken cancellationToken) =>
        WriteAsync(path, OrdersHeader, orders, 20250701,
            (StringBuilder line, long i, ref SplitMix64 random) => AppendOrder(line, i, customers, ref random), progress, cancellationToken);

    /// <summary>The BG/NBD and Gamma-Gamma parameters (per day) of <see cref="WriteLifetimeOrdersAsync"/>'s buying.</summary>
    public static readonly (double R, double Alpha, double A, double B, double P, double Q, double Gamma) LifetimeTruth = (0.9, 40, 0.8, 6, 6, 4, 150);

    /// <summary>
    /// Writes the orders of <paramref name="customers"/> customers who buy as BG/NBD and Gamma-Gamma assume (Fader, Hardie
    /// &amp; Lee 2005; Fader &amp; Hardie 2013), with <see cref="LifetimeTruth"/>'s parameters: each customer's first order
    /// falls in the first three years of the four; while active they buy at their own Poisson rate (gamma across
    /// customers) and after each repeat order leave for good with their own probability (beta across customers); each
    /// order's amount is gamma around their own mean (gamma-gamma across customers). About ten orders a customer; the
    /// number written is returned. Seeded: the same bytes every time on one .NET version.
    /// </summary>
    public static async Task<long> WriteLifetimeOrdersAsync(string path, long customers, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var (r, alpha, a, b, p, q, gamma) = LifetimeTruth;
        var c = CultureInfo.InvariantCulture;
        var random = new Random(20250702);
        var start = Today.ToDateTime(new TimeOnly(23, 59, 59)).AddDays(-OrderSpanDays);
        var partial = path + ".partial";
        long written = 0;
        try
        {
            await using (var stream = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, useAsync: true))
            await using (var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 20))
            {
                writer.NewLine = "\n";
                await writer.WriteLineAsync(OrdersHeader);
                var line = new StringBuilder(128);
                for (long k = 0; k < customers; k++)
                {
                    var rate = Gamma.Sample(random, r, alpha);
                    var leave = Beta.Sample(random, a, b);
                    var spendRate = Gamma.Sample(random, q, gamma);
                    var day = random.NextDouble() * OrderSpanDays * 0.75;
                    for (var repeat = false; day < OrderSpanDays; repeat = true)
                    {
                        line.Clear();
                        var amount = Math.Max(0.01, Math.Round(Gamma.Sample(random, p, spendRate), 2));
                        line.Append((1 + written).ToString(c)).Append(',')
                            .Append((FirstCustomerId + k).ToString(c)).Append(',')
                            .Append(start.AddSeconds(Math.Floor(day * 86_400)).ToString("yyyy-MM-dd HH:mm:ss", c)).Append(',')
                            .Append(amount.ToString("0.00", c)).Append(',')
                            .Append(Categories[random.Next(Categories.Length)]).Append('\n');
                        await writer.WriteAsync(line, cancellationToken);
                        if (++written % 1_000_000 == 0)
                        {
                            cancellationToken.ThrowIfCancellationRequested();
                            progress?.Report(written);
                        }
                        if (repeat && random.NextDouble() < leave)
                        {
                            break;
                        }
                        day += Exponential.Sample(random, rate);
                    }
                }
            }
            File.Move(partial, path, overwrite: true);
            return written;
        }
        catch
        {
            File.Delete(partial);
            throw;
        }
    }

    private delegate void RowWriter(StringBuilder line, long index, ref SplitMix64 random);

    private static async Task WriteAsync(
        string path, string header, long rows, ulong seed, RowWriter append, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var partial = path + ".partial";
        try
        {
            await using (var stream = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, useAsync: true))
            await using (var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 20))
            {
                writer.NewLine = "\n";
                await writer.WriteLineAsync(header);
                var random = new SplitMix64(seed);
                var line = new StringBuilder(128);
                for (long i = 0; i < rows; i++)
                {
                    line.Clear();
                    append(line, i, ref random);
                    await writer.WriteAsync(line, cancellationToken);
                    if ((i + 1) % 1_000_000 == 0)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        progress?.Report(i + 1);
                    }
                }
            }
            File.Move(partial, path, overwrite: true);
        }
        catch
        {
            File.Delete(partial);
            throw;
        }
    }

    private static void AppendCustomer(StringBuilder line, long index, ref SplitMix64 random)
    {
        var c = CultureInfo.InvariantCulture;
        var region = Regions[random.Next(Regions.Length)];
        var t = random.NextDouble();
        var tier = Tiers.First(x => t < x.Below).Name;
        var signup = Today.AddDays(-(int)(random.NextDouble() * 10 * 365));
        var active = random.NextDouble() < 0.8;
        var lifetimeValue = Math.Round(Math.Pow(random.NextDouble(), 3) * 25_000, 2);
        line.Append((FirstCustomerId + index).ToString(c)).Append(',')
            .Append(region).Append(',')
            .Append(tier).Append(',')
            .Append(signup.ToString("yyyy-MM-dd", c)).Append(',')
            .Append(active ? "true" : "false").Append(',')
            .Append(lifetimeValue.ToString("0.00", c)).Append('\n');
    }

    private static void AppendOrder(StringBuilder line, long index, long customers, ref SplitMix64 random)
    {
        var c = CultureInfo.InvariantCulture;
        // Customer k gets a share of the orders proportional to 1/sqrt(k): on 10 orders a customer on average, the
        // first few percent order weekly and the last ones a handful of times in four years.
        var customer = FirstCustomerId + Math.Min(customers - 1, (long)(Math.Pow(random.NextDouble(), 2) * customers));
        var secondsBack = (long)(random.NextDouble() * OrderSpanDays * 86_400L);
        var orderedAt = Today.ToDateTime(new TimeOnly(23, 59, 59)).AddSeconds(-secondsBack);
        var amount = 5 + Math.Pow(random.NextDouble(), 2) * 495;
        var category = Categories[random.Next(Categories.Length)];
        line.Append((1 + index).ToString(c)).Append(',')
            .Append(customer.ToString(c)).Append(',')
            .Append(orderedAt.ToString("yyyy-MM-dd HH:mm:ss", c)).Append(',')
            .Append(amount.ToString("0.00", c)).Append(',')
            .Append(category).Append('\n');
    }
}
