namespace SegmentPortal.Core.Storage;

/// <summary>Absolute locations of everything the portal keeps on disk.</summary>
public sealed class StoragePaths
{
    public StoragePaths(string dataDirectory)
    {
        DataDirectory = Path.GetFullPath(dataDirectory);
    }

    public string DataDirectory { get; }

    public string MetadataDatabase => Path.Combine(DataDirectory, "portal.db");

    public string UploadsDirectory => Path.Combine(DataDirectory, "uploads");

    public string TempDirectory => Path.Combine(DataDirectory, "tmp");

    /// <summary>The default folder for SQLite files that connections may read (<c>Connections:SqliteFolder</c> can move it).</summary>
    public string SourcesDirectory => Path.Combine(DataDirectory, "sources");

    /// <summary>A configured path: absolute as given, relative to the data directory otherwise.</summary>
    public string InDataDirectory(string path) => Path.GetFullPath(Path.Combine(DataDirectory, path));

    public void EnsureCreated()
    {
        Directory.CreateDirectory(DataDirectory);
        Directory.CreateDirectory(UploadsDirectory);
        Directory.CreateDirectory(TempDirectory);
    }

    public static StoragePaths Resolve(StorageOptions options, string? startDirectory = null)
    {
        var configured = string.IsNullOrWhiteSpace(options.DataDirectory) ? "data" : options.DataDirectory;
        if (Path.IsPathRooted(configured))
        {
            return new StoragePaths(configured);
        }
        var root = FindRepositoryRoot(startDirectory ?? AppContext.BaseDirectory) ?? Directory.GetCurrentDirectory();
        return new StoragePaths(Path.Combine(root, configured));
    }

    /// <summary>The nearest folder upwards that holds SegmentPortal.sln, or null outside a clone (e.g. when published).</summary>
    public static string? FindRepositoryRoot(string startDirectory)
    {
        for (var dir = new DirectoryInfo(startDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SegmentPortal.sln")))
            {
                return dir.FullName;
            }
        }
        return null;
    }
}
