using System.Text;
using SegmentPortal.Benchmarks.Framework;
using SegmentPortal.Benchmarks.Scenarios;

// dotnet run -c Release --project tests/SegmentPortal.Benchmarks -- <scenario> [--size N] [--runs R]
// Exit codes: 0 done, 1 a run failed, 2 bad arguments or missing input.

if (CommandLine.IsHelp(args))
{
    Console.WriteLine(Usage());
    return 0;
}
if (!CommandLine.TryParse(args, ScenarioCatalog.All.Select(s => s.Name).ToList(), out var parsed, out var error))
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine();
    Console.Error.WriteLine(Usage());
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

var paths = BenchmarkPaths.Locate();
var scenario = ScenarioCatalog.Find(parsed!.Scenario)!;
var context = new ScenarioContext(paths, parsed.Size, parsed.Runs);
BenchmarkResult result;
try
{
    result = await BenchmarkRunner.RunAsync(scenario, context, cancel.Token);
}
catch (ScenarioInputException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}
catch (OperationCanceledException) when (cancel.IsCancellationRequested)
{
    Console.Error.WriteLine("Cancelled.");
    return 1;
}
catch (Exception ex)
{
    Console.Error.WriteLine($"The {scenario.Name} benchmark failed: {ex}");
    return 1;
}

Reporter.AppendCsv(result, paths.GitCommit());
Console.WriteLine(Reporter.Render(result));
return 0;

static string Usage()
{
    var text = new StringBuilder();
    text.AppendLine("Usage: dotnet run -c Release --project tests/SegmentPortal.Benchmarks -- <scenario> [--size N] [--runs R]");
    text.AppendLine();
    text.AppendLine("  --size N   input size in rows (the scenario generates it once and caches it); without it, the scenario's default input");
    text.AppendLine($"  --runs R   timed runs of each side after one warm-up each, {CommandLine.MinRuns} or more (default {CommandLine.DefaultRuns})");
    text.AppendLine();
    text.AppendLine("Scenarios:");
    foreach (var s in ScenarioCatalog.All)
    {
        text.AppendLine($"  {s.Name} (baseline: {s.BaselineName})");
        foreach (var line in Wrap(s.Description, 100))
        {
            text.AppendLine($"      {line}");
        }
    }
    text.AppendLine();
    text.Append("Results are appended to tests/SegmentPortal.Benchmarks/results/results.csv.");
    return text.ToString();
}

static IEnumerable<string> Wrap(string text, int width)
{
    var line = new StringBuilder();
    foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
    {
        if (line.Length > 0 && line.Length + 1 + word.Length > width)
        {
            yield return line.ToString();
            line.Clear();
        }
        line.Append(line.Length > 0 ? " " : "").Append(word);
    }
    if (line.Length > 0)
    {
        yield return line.ToString();
    }
}
