using System.Globalization;

namespace SegmentPortal.Benchmarks.Framework;

/// <summary>What one invocation asks for: <c>&lt;scenario&gt; [--size N] [--runs R]</c>.</summary>
public sealed record BenchmarkArguments(string Scenario, long? Size, int Runs);

public static class CommandLine
{
    public const int DefaultRuns = 5;
    public const int MinRuns = 3;

    /// <summary>Parses the arguments; on failure <paramref name="error"/> says what is wrong, for the usage message.</summary>
    public static bool TryParse(
        IReadOnlyList<string> args, IReadOnlyCollection<string> scenarios, out BenchmarkArguments? parsed, out string? error)
    {
        parsed = null;
        error = null;
        string? scenario = null;
        long? size = null;
        int? runs = null;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            switch (arg)
            {
                case "--size":
                    if (size is not null)
                    {
                        error = "--size is given twice.";
                        return false;
                    }
                    if (!TryValue(args, ref i, out var sizeText) || !long.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1)
                    {
                        error = "--size needs a whole number of rows, 1 or more.";
                        return false;
                    }
                    size = n;
                    break;
                case "--runs":
                    if (runs is not null)
                    {
                        error = "--runs is given twice.";
                        return false;
                    }
                    if (!TryValue(args, ref i, out var runsText) || !int.TryParse(runsText, NumberStyles.None, CultureInfo.InvariantCulture, out var r) || r < MinRuns || r > 100)
                    {
                        error = $"--runs needs a whole number from {MinRuns} to 100.";
                        return false;
                    }
                    runs = r;
                    break;
                default:
                    if (arg.StartsWith('-'))
                    {
                        error = $"Unknown option '{arg}'.";
                        return false;
                    }
                    if (scenario is not null)
                    {
                        error = $"One scenario at a time ('{scenario}' and '{arg}' were given).";
                        return false;
                    }
                    scenario = arg;
                    break;
            }
        }
        if (scenario is null)
        {
            error = "Name a scenario.";
            return false;
        }
        if (!scenarios.Contains(scenario, StringComparer.Ordinal))
        {
            error = $"Unknown scenario '{scenario}'.";
            return false;
        }
        parsed = new BenchmarkArguments(scenario, size, runs ?? DefaultRuns);
        return true;
    }

    public static bool IsHelp(IReadOnlyList<string> args) => args.Count == 1 && args[0] is "-h" or "--help" or "help";

    private static bool TryValue(IReadOnlyList<string> args, ref int i, out string value)
    {
        if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
        {
            value = args[++i];
            return true;
        }
        value = "";
        return false;
    }
}
