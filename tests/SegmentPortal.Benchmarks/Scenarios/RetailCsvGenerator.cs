using System.Globalization;
using System.Text;

namespace SegmentPortal.Benchmarks.Scenarios;

/// <summary>
/// Writes a retail orders CSV of a given number of rows, the same bytes every time (seeded), streamed to disk so
/// ten million rows (about a gigabyte) never sit in memory. Columns: order_id, customer_id, order_date, amount (two
/// decimals), quantity, category, channel, returned, and a free-text note that is often empty and sometimes quoted
/// because it holds commas or quotes.
/// </summary>
public static class RetailCsvGenerator
{
    public const string Header = "order_id,customer_id,order_date,amount,quantity,category,channel,returned,note";

    private static readonly string[] Categories =
    [
        "Electronics", "Home & Garden", "Toys", "Books", "Clothing", "Shoes", "Beauty", "Sports & Outdoors",
        "Grocery", "Office Supplies", "Pet Supplies", "Jewelry", "Automotive", "Music",
    ];

    private static readonly string[] Channels = ["online", "store", "phone", "marketplace"];

    private static readonly string[] Plain =
    [
        "Leave at the back door", "Gift wrap please", "Customer called twice", "Repeat order", "Deliver after 5pm",
        "Price matched in store", "Loyalty discount applied", "Urgent", "Paid by voucher", "Collected in person",
    ];

    private static readonly string[] WithCommas =
    [
        "Gift wrap, no receipt", "Fragile, handle with care, this side up", "Called, no answer, left voicemail",
        "Size M, colour blue", "Refund issued, item restocked", "Delivered late, customer compensated, 10% off next order",
        "Ring bell twice, dog in garden",
    ];

    private static readonly string[] WithQuotes =
    [
        "Customer said \"perfect\", will reorder", "Marked \"do not bend\"", "Engraving: \"Happy 40th, Sam\"",
    ];

    private static readonly DateTime FirstOrder = new(2021, 1, 1, 0, 0, 0, DateTimeKind.Unspecified);
    private const int OrderSpanSeconds = 4 * 365 * 24 * 3600;

    /// <summary>Writes <paramref name="rows"/> rows to <paramref name="path"/> (via a temporary name, so a cut-off file is never reused).</summary>
    public static async Task WriteAsync(string path, long rows, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var partial = path + ".partial";
        try
        {
            await using (var stream = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, useAsync: true))
            await using (var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 20))
            {
                writer.NewLine = "\n";
                await writer.WriteLineAsync(Header);
                var random = new SplitMix64(20240601);
                var line = new StringBuilder(256);
                for (long i = 0; i < rows; i++)
                {
                    line.Clear();
                    AppendRow(line, i, ref random);
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

    private static void AppendRow(StringBuilder line, long index, ref SplitMix64 random)
    {
        var c = CultureInfo.InvariantCulture;
        var orderId = 10_000_000 + index;
        // A long tail of customers: most orders come from the first few thousand.
        var customer = 100_000 + (long)(Math.Pow(random.NextDouble(), 2.5) * 250_000);
        var orderedAt = FirstOrder.AddSeconds((long)(random.NextDouble() * OrderSpanSeconds));
        var quantity = 1 + (int)(Math.Pow(random.NextDouble(), 3) * 24);
        var unitCents = 49 + (long)(Math.Pow(random.NextDouble(), 2) * 49_950);
        var amount = unitCents * quantity / 100m;
        var category = Categories[random.Next(Categories.Length)];
        var channel = Channels[random.Next(Channels.Length)];
        var returned = random.NextDouble() < 0.06;

        line.Append(orderId.ToString(c)).Append(',')
            .Append(customer.ToString(c)).Append(',')
            .Append(orderedAt.ToString("yyyy-MM-dd HH:mm:ss", c)).Append(',')
            .Append(amount.ToString("0.00", c)).Append(',')
            .Append(quantity.ToString(c)).Append(',')
            .Append(category).Append(',')
            .Append(channel).Append(',')
            .Append(returned ? "true" : "false").Append(',');
        var kind = random.NextDouble();
        if (kind < 0.25)
        {
            // no note
        }
        else if (kind < 0.60)
        {
            line.Append(Plain[random.Next(Plain.Length)]);
        }
        else if (kind < 0.92)
        {
            line.Append('"').Append(WithCommas[random.Next(WithCommas.Length)]).Append(", ref ")
                .Append(random.Next(100_000).ToString(c)).Append(", agent ").Append((char)('A' + random.Next(26)))
                .Append(random.Next(100).ToString("00", c)).Append('"');
        }
        else
        {
            line.Append('"').Append(WithQuotes[random.Next(WithQuotes.Length)].Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
        }
        line.Append('\n');
    }
}
