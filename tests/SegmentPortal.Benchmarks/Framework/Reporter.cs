using System.Globalization;
using System.Text;

namespace SegmentPortal.Benchmarks.Framework;

/// <summary>
/// Prints the report (notes, a markdown table with one row per side and per extra side, then exactly one line
/// <c>&lt;scenario&gt;: &lt;ratio&gt;x &lt;baseline&gt;</c>) and appends every side to results.csv.
/// </summary>
public static class Reporter
{
    public const string CsvHeader = "timestamp,commit,scenario,size,side,median_ms,min_ms,max_ms,peak_mb,rows,ratio";

    public static string Render(BenchmarkResult result)
    {
        var text = new StringBuilder();
        foreach (var note in result.Context.Notes)
        {
            text.AppendLine(note);
        }
        if (result.Context.Notes.Count > 0)
        {
            text.AppendLine();
        }
        text.AppendLine(CultureInfo.InvariantCulture,
            $"| {result.Scenario.Name} ({result.Context.InputLabel}, {result.Context.Runs} runs) | median | min | max | peak MB | start MB | managed peak MB | rows |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var side in new[] { result.App, result.Baseline })
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {side.Label} | {Format.Seconds(side.Median)} | {Format.Seconds(side.Min)} | {Format.Seconds(side.Max)} | " +
                $"{Format.Megabytes(side.PeakWorkingSet)} | {Format.Megabytes(side.StartWorkingSet)} | {Format.Megabytes(side.PeakManagedHeap)} | {Format.Rows(side.Rows)} |");
        }
        foreach (var extra in result.Context.Extras)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {extra.Label} | {Format.Seconds(extra.Median)} | {Format.Seconds(extra.Min)} | {Format.Seconds(extra.Max)} | " +
                $"{Megabytes(extra.PeakWorkingSet)} | {Megabytes(extra.StartWorkingSet)} | {Megabytes(extra.PeakManagedHeap)} | {Format.Rows(extra.Rows)} |");
        }
        text.AppendLine();
        text.Append(RatioLine(result));
        return text.ToString();
    }

    public static string RatioLine(BenchmarkResult result) =>
        $"{result.Scenario.Name}: {Format.Ratio(result.Ratio)}x {result.Scenario.BaselineName}";

    public static void AppendCsv(BenchmarkResult result, string commit)
    {
        var path = result.Context.Paths.ResultsCsv;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var lines = new List<string>();
        if (!File.Exists(path) || new FileInfo(path).Length == 0)
        {
            lines.Add(CsvHeader);
        }
        foreach (var side in new[] { result.App, result.Baseline })
        {
            lines.Add(string.Join(',',
                result.FinishedAt.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
                Csv(commit),
                Csv(result.Scenario.Name),
                Csv(result.Context.InputLabel),
                Csv(side.Label),
                Format.Milliseconds(side.Median),
                Format.Milliseconds(side.Min),
                Format.Milliseconds(side.Max),
                Format.Megabytes(side.PeakWorkingSet),
                side.Rows.ToString(CultureInfo.InvariantCulture),
                Format.Ratio(result.Ratio)));
        }
        foreach (var extra in result.Context.Extras)
        {
            lines.Add(string.Join(',',
                result.FinishedAt.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
                Csv(commit),
                Csv(result.Scenario.Name),
                Csv(result.Context.InputLabel),
                Csv(extra.Label),
                Format.Milliseconds(extra.Median),
                Format.Milliseconds(extra.Min),
                Format.Milliseconds(extra.Max),
                extra.PeakWorkingSet is { } peak ? Format.Megabytes(peak) : "",
                extra.Rows.ToString(CultureInfo.InvariantCulture),
                Format.Ratio(extra.Ratio)));
        }
        File.AppendAllLines(path, lines);
    }

    private static string Megabytes(long? bytes) => bytes is { } b ? Format.Megabytes(b) : "–";

    private static string Csv(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}
