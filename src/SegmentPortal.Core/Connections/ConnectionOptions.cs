using Microsoft.Extensions.Options;
using SegmentPortal.Core.Storage;

namespace SegmentPortal.Core.Connections;

public sealed class ConnectionOptions
{
    public const string Section = "Connections";

    /// <summary>
    /// The only folder SQLite connections may read files from; relative to the data directory unless rooted.
    /// Default: <c>sources</c> in the data directory.
    /// </summary>
    public string? SqliteFolder { get; set; }

    /// <summary>How long to wait for a server to answer a connection attempt, in seconds.</summary>
    public int ConnectTimeoutSeconds { get; set; } = 5;
}

/// <summary>The allow-listed folder for SQLite sources, created when the portal starts.</summary>
public sealed class SqliteSourceFolder
{
    public SqliteSourceFolder(IOptions<ConnectionOptions> options, StoragePaths paths)
    {
        var configured = options.Value.SqliteFolder;
        FolderPath = string.IsNullOrWhiteSpace(configured) ? paths.SourcesDirectory : paths.InDataDirectory(configured);
        Directory.CreateDirectory(FolderPath);
    }

    public string FolderPath { get; }

    /// <summary>
    /// The full path of <paramref name="fileName"/> inside the folder. Refuses absolute paths, <c>..</c>, URIs and links
    /// that lead outside the folder, and files that do not exist.
    /// </summary>
    public string Resolve(string? fileName)
    {
        var name = fileName?.Trim() ?? "";
        if (name.Length == 0)
        {
            throw new ConnectionException("Enter the SQLite file's name.");
        }
        if (Path.IsPathRooted(name) || name.StartsWith('~') || name.StartsWith('/') || name.StartsWith('\\'))
        {
            throw new ConnectionException("Give the file's name inside the sources folder, not an absolute path.");
        }
        if (name.Split('/', '\\').Any(part => part == ".."))
        {
            throw new ConnectionException("The file name may not contain '..': SQLite files must be inside the sources folder.");
        }
        if (name.IndexOfAny([':', '?', '*', '"', '<', '>', '|', '\0']) >= 0 || name.Any(char.IsControl))
        {
            throw new ConnectionException("The file name contains characters that are not allowed (such as ':' or '?').");
        }

        var folder = RealPath(FolderPath);
        var full = Path.GetFullPath(Path.Combine(folder, name));
        if (!IsInside(full, folder))
        {
            throw new ConnectionException("SQLite files must be inside the sources folder.");
        }
        var real = RealPath(full);
        if (!IsInside(real, folder))
        {
            throw new ConnectionException("That file is a link to somewhere outside the sources folder; copy the file into the folder instead.");
        }
        if (!File.Exists(real))
        {
            throw new ConnectionException($"There is no file '{name}' in the sources folder ({FolderPath}).");
        }
        return real;
    }

    private static bool IsInside(string path, string folder)
    {
        var comparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var prefix = folder.EndsWith(Path.DirectorySeparatorChar) ? folder : folder + Path.DirectorySeparatorChar;
        return path.StartsWith(prefix, comparison);
    }

    /// <summary>The path with every symbolic link along it resolved.</summary>
    internal static string RealPath(string path, int depth = 0)
    {
        if (depth > 32)
        {
            throw new ConnectionException("Too many links in the SQLite file's path.");
        }
        var full = Path.GetFullPath(path);
        var root = Path.GetPathRoot(full) ?? "";
        var parts = full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        var current = root;
        for (var i = 0; i < parts.Length; i++)
        {
            var next = Path.Combine(current, parts[i]);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (info.LinkTarget is { } target)
            {
                var resolved = Path.IsPathRooted(target) ? target : Path.Combine(current, target);
                var rest = string.Join(Path.DirectorySeparatorChar, parts[(i + 1)..]);
                return RealPath(rest.Length == 0 ? resolved : Path.Combine(resolved, rest), depth + 1);
            }
            current = next;
        }
        return current;
    }
}
