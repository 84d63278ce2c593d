using System.Diagnostics;

namespace SegmentPortal.Benchmarks.Framework;

/// <summary>Finds the Python interpreter that the reference sides (pandas, scikit-learn) run in.</summary>
public static class Python
{
    /// <summary>The first of <c>python3</c> and <c>/usr/bin/python3</c> that can run <paramref name="imports"/> (e.g. "import pandas"), or null.</summary>
    public static async Task<string?> FindAsync(string imports, CancellationToken cancellationToken)
    {
        foreach (var candidate in new[] { "python3", "/usr/bin/python3" })
        {
            try
            {
                var start = new ProcessStartInfo(candidate) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                start.ArgumentList.Add("-c");
                start.ArgumentList.Add(imports);
                using var process = Process.Start(start);
                if (process is null)
                {
                    continue;
                }
                await process.WaitForExitAsync(cancellationToken);
                if (process.ExitCode == 0)
                {
                    return candidate;
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // not on PATH
            }
        }
        return null;
    }
}
