using System.Diagnostics;
using SegmentPortal.Core.Storage;

namespace SegmentPortal.Benchmarks.Framework;

/// <summary>Where the harness reads and writes: everything it writes is under <see cref="Results"/> (git-ignored).</summary>
public sealed class BenchmarkPaths
{
    private BenchmarkPaths(string repositoryRoot)
    {
        RepositoryRoot = repositoryRoot;
        Results = Path.Combine(repositoryRoot, "tests", "SegmentPortal.Benchmarks", "results");
    }

    /// <summary>The folder holding SegmentPortal.sln.</summary>
    public string RepositoryRoot { get; }

    public string Results { get; }

    public string ResultsCsv => Path.Combine(Results, "results.csv");

    /// <summary>Generated inputs, written once and reused by later runs.</summary>
    public string Cache => Path.Combine(Results, "cache");

    /// <summary>Scratch folders for single runs (data folders, DuckDB files); each is deleted after its run.</summary>
    public string Work => Path.Combine(Results, "work");

    public static BenchmarkPaths Locate()
    {
        var root = StoragePaths.FindRepositoryRoot(AppContext.BaseDirectory)
            ?? StoragePaths.FindRepositoryRoot(Directory.GetCurrentDirectory())
            ?? throw new InvalidOperationException("Run the benchmarks from a clone: no folder above holds SegmentPortal.sln.");
        return new BenchmarkPaths(root);
    }

    /// <summary>A new, empty scratch folder under <see cref="Work"/>.</summary>
    public string NewWorkFolder(string prefix)
    {
        var folder = Path.Combine(Work, $"{prefix}-{Guid.NewGuid().ToString("N")[..12]}");
        Directory.CreateDirectory(folder);
        return folder;
    }

    public static void DeleteFolder(string folder)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                if (Directory.Exists(folder))
                {
                    Directory.Delete(folder, recursive: true);
                }
                return;
            }
            catch (IOException) when (attempt < 5)
            {
                Thread.Sleep(200);
            }
        }
    }

    /// <summary>The checked-out commit (<c>git rev-parse --short HEAD</c>), "-dirty" when files differ from it; "unknown" without git.</summary>
    public string GitCommit()
    {
        var head = Git("rev-parse --short HEAD");
        if (string.IsNullOrWhiteSpace(head))
        {
            return "unknown";
        }
        var status = Git("status --porcelain --untracked-files=no");
        return string.IsNullOrWhiteSpace(status) ? head.Trim() : head.Trim() + "-dirty";
    }

    private string? Git(string arguments)
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", arguments)
            {
                WorkingDirectory = RepositoryRoot,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (git is null)
            {
                return null;
            }
            var output = git.StandardOutput.ReadToEnd();
            git.WaitForExit();
            return git.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no git on PATH
        }
    }
}
