using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Options;
using SegmentPortal.Core.Storage;

namespace SegmentPortal.Core.Activation;

/// <summary>
/// Writes each run as files in a folder under the file-drop root (<c>Syncs:FileDropRoot</c>, by default <c>drops</c> in
/// the data folder): a full sync as one members file, a delta as an entered file and a left file, in CSV or Parquet,
/// plus a manifest (<c>…-manifest.json</c>: sync, run, mode, rows and each file's name, rows and SHA-256) written last,
/// so a reader that waits for the manifest never sees a half-written file. Paths outside the root are refused.
/// </summary>
internal sealed class FileDropDestination(StoragePaths paths, IOptions<SyncOptions> options) : ISyncDestination
{
    public SyncDestinationKind Kind => SyncDestinationKind.FileDrop;

    /// <summary>The root every file-drop folder lies in.</summary>
    public static string Root(StoragePaths paths, SyncOptions options)
    {
        var root = string.IsNullOrWhiteSpace(options.FileDropRoot) ? "drops" : options.FileDropRoot.Trim();
        return Path.GetFullPath(Path.IsPathRooted(root) ? root : Path.Combine(paths.DataDirectory, root));
    }

    /// <summary>The folder for <paramref name="folder"/> (relative to the root), or why it cannot be used.</summary>
    public static string Resolve(StoragePaths paths, SyncOptions options, string? folder)
    {
        var text = folder?.Trim().Replace('\\', '/') ?? "";
        if (text.Length == 0)
        {
            throw new PortalException("Enter the folder the files go to (inside the file-drop folder).");
        }
        if (text.Length > SegmentSync.MaxPathLength || text.Any(char.IsControl) || Path.IsPathRooted(text))
        {
            throw new PortalException("Enter a folder inside the file-drop folder, such as crm/daily.");
        }
        var root = Root(paths, options);
        var full = Path.GetFullPath(Path.Combine(root, text));
        if (!full.StartsWith(root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new PortalException("That folder is outside the file-drop folder; enter one inside it, such as crm/daily.");
        }
        return full;
    }

    public async Task<SyncOutcome> DeliverAsync(SyncDeliveryWork work, IServiceProvider services, CancellationToken cancellationToken)
    {
        var folder = Resolve(paths, options.Value, work.Sync.Folder);
        Directory.CreateDirectory(folder);
        var parquet = work.Sync.FileFormat == SyncFileFormat.Parquet;
        var extension = parquet ? ".parquet" : ".csv";
        var stem = string.Create(CultureInfo.InvariantCulture, $"sync-{work.Sync.Id}-run-{work.RunId}-{work.Now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}");
        var files = new List<object>();
        var parts = work.Full
            ? new[] { (Name: "members", Table: SyncWarehouse.EnteredSource(work.Sync.Id, full: true), Rows: work.Change.Entered) }
            : [("entered", SyncWarehouse.EnteredTable(work.Sync.Id), work.Change.Entered), ("left", SyncWarehouse.LeftTable(work.Sync.Id), work.Change.Left)];
        foreach (var (name, table, rows) in parts)
        {
            var fileName = $"{stem}-{name}{extension}";
            // DuckDB writes only inside the data folder's temp area; the finished file is moved into place.
            var temp = Path.Combine(paths.TempDirectory, $"{Guid.NewGuid():N}{extension}");
            try
            {
                await SyncWarehouse.CopyToAsync(work.Warehouse, table, work.Columns, temp, parquet, cancellationToken);
                var hash = await HashAsync(temp, cancellationToken);
                File.Move(temp, Path.Combine(folder, fileName), overwrite: true);
                files.Add(new { name = fileName, part = name, rows, sha256 = hash });
            }
            finally
            {
                File.Delete(temp);
            }
        }
        var manifest = new
        {
            sync = work.Sync.Id,
            run = work.RunId,
            segment = new { id = work.Segment.Id, name = work.Segment.Name },
            mode = work.Full ? "full" : "delta",
            format = parquet ? "parquet" : "csv",
            created = work.Now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            members = work.Change.Members,
            entered = work.Change.Entered,
            left = work.Change.Left,
            columns = work.Columns.Select(c => c.Name).Prepend("customer_key").ToList(),
            files,
        };
        var manifestPath = Path.Combine(folder, $"{stem}-manifest.json");
        var tempManifest = manifestPath + ".tmp";
        await File.WriteAllTextAsync(tempManifest, JsonSerializer.Serialize(manifest, new JsonSerializerOptions { WriteIndented = true }), cancellationToken);
        File.Move(tempManifest, manifestPath, overwrite: true);
        return new SyncOutcome(work.Change.Entered + work.Change.Left, work.Change.Entered, work.Change.Left);
    }

    private static async Task<string> HashAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexString(await SHA256.HashDataAsync(stream, cancellationToken)).ToLowerInvariant();
    }
}
