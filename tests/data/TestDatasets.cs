using System.IO.Compression;

namespace SegmentPortal.TestData;

/// <summary>
/// Public data sets kept inside the repository (tests/data, gzip-compressed), so the tests and benchmarks run on a bare
/// clone. <see cref="Path"/> unpacks a file once into the system temp folder (named by the compressed file's size and
/// time, so a changed file unpacks again) and returns the unpacked CSV's path; concurrent callers wait for the same copy.
/// </summary>
public static class TestDatasets
{
    public const string OnlineRetail = "online-retail.csv";

    /// <summary>200 generated customers shaped like the Mall customers file, for k-means against scikit-learn (see README.md).</summary>
    public const string KMeansMallLike = "kmeans-mall-like.csv";

    private static readonly SemaphoreSlim Gate = new(1, 1);

    /// <summary>tests/data in the clone the running assembly was built from.</summary>
    public static string Folder
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(System.IO.Path.Combine(dir.FullName, "SegmentPortal.sln")))
                {
                    return System.IO.Path.Combine(dir.FullName, "tests", "data");
                }
            }
            throw new InvalidOperationException("SegmentPortal.sln was not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>The unpacked file's path (e.g. <c>Path("online-retail.csv")</c> from <c>tests/data/online-retail.csv.gz</c>).</summary>
    public static string Path(string name)
    {
        var packed = new FileInfo(System.IO.Path.Combine(Folder, name + ".gz"));
        if (!packed.Exists)
        {
            throw new FileNotFoundException($"The test data file {packed.FullName} is missing from the clone.", packed.FullName);
        }
        var target = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "segmentportal-testdata",
            $"{packed.Length}-{packed.LastWriteTimeUtc.Ticks}", name);
        if (File.Exists(target))
        {
            return target;
        }
        Gate.Wait();
        try
        {
            if (!File.Exists(target))
            {
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
                // Unpack under a unique name and move into place, so another process never sees a half-written file.
                var partial = target + "." + Guid.NewGuid().ToString("N") + ".part";
                using (var source = new GZipStream(packed.OpenRead(), CompressionMode.Decompress))
                using (var output = File.Create(partial))
                {
                    source.CopyTo(output);
                }
                try
                {
                    File.Move(partial, target);
                }
                catch (IOException) when (File.Exists(target))
                {
                    File.Delete(partial);
                }
            }
            return target;
        }
        finally
        {
            Gate.Release();
        }
    }
}
