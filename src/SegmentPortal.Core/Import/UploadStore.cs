using System.Text.Json;
using Microsoft.Extensions.Options;
using SegmentPortal.Core.Storage;

namespace SegmentPortal.Core.Import;

/// <summary>A file a user uploaded, stored under a generated name outside wwwroot until an import reads it.</summary>
public sealed record StoredUpload(Guid Id, string FileName, long Size, string OwnerId, DateTimeOffset UploadedAt)
{
    public string Extension => Path.GetExtension(FileName).ToLowerInvariant();
}

/// <summary>
/// Streams uploads to disk (never the whole file in memory), enforces the size limit while writing, and hands them
/// back only to the user who uploaded them.
/// </summary>
public sealed class UploadStore(StoragePaths paths, IOptions<ImportOptions> options, TimeProvider clock)
{
    private const int BufferSize = 1 << 20;

    public long MaxBytes => options.Value.MaxUploadBytes;

    public async Task<StoredUpload> SaveAsync(
        Stream content, string fileName, string ownerId, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        var name = CleanFileName(fileName);
        var id = Guid.NewGuid();
        var dataPath = DataPath(id);
        var partial = dataPath + ".part";
        long written = 0;
        try
        {
            await using (var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, useAsync: true))
            {
                var buffer = new byte[BufferSize];
                int read;
                while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    written += read;
                    if (written > MaxBytes)
                    {
                        throw new PortalException($"{name} is larger than the {FormatBytes(MaxBytes)} upload limit.");
                    }
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    progress?.Report(written);
                }
            }
            File.Move(partial, dataPath);
            var upload = new StoredUpload(id, name, written, ownerId, clock.GetUtcNow());
            await File.WriteAllTextAsync(MetaPath(id), JsonSerializer.Serialize(upload), cancellationToken);
            return upload;
        }
        catch
        {
            File.Delete(partial);
            File.Delete(dataPath);
            throw;
        }
    }

    /// <summary>The upload, if it exists and belongs to <paramref name="ownerId"/>; anything else is refused alike.</summary>
    public async Task<StoredUpload> GetAsync(Guid id, string ownerId, CancellationToken cancellationToken = default)
    {
        var meta = MetaPath(id);
        if (File.Exists(meta) && File.Exists(DataPath(id)))
        {
            var upload = JsonSerializer.Deserialize<StoredUpload>(await File.ReadAllTextAsync(meta, cancellationToken));
            if (upload is not null && upload.OwnerId == ownerId)
            {
                return upload;
            }
        }
        throw new PortalException("That upload is no longer available. Drop the file again.");
    }

    public string PathOf(StoredUpload upload) => DataPath(upload.Id);

    /// <summary>A scratch file next to the upload (e.g. a transcoded copy); deleted with it.</summary>
    public string ScratchPathOf(StoredUpload upload, string suffix) => DataPath(upload.Id) + "." + suffix;

    public void Delete(StoredUpload upload)
    {
        foreach (var file in Directory.EnumerateFiles(paths.UploadsDirectory, upload.Id.ToString("N") + "*"))
        {
            File.Delete(file);
        }
    }

    /// <summary>Removes uploads nobody imported within a day (closed tabs, failed imports).</summary>
    public int DeleteAbandoned(TimeSpan age)
    {
        var cutoff = clock.GetUtcNow() - age;
        var removed = 0;
        foreach (var file in Directory.EnumerateFiles(paths.UploadsDirectory))
        {
            if (File.GetLastWriteTimeUtc(file) < cutoff.UtcDateTime)
            {
                File.Delete(file);
                removed++;
            }
        }
        return removed;
    }

    public static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.#} GB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.#} MB",
        >= 1L << 10 => $"{bytes / (double)(1L << 10):0.#} KB",
        _ => $"{bytes} bytes",
    };

    private string DataPath(Guid id) => Path.Combine(paths.UploadsDirectory, id.ToString("N"));

    private string MetaPath(Guid id) => DataPath(id) + ".json";

    /// <summary>Only the last path segment, without control characters: the name is shown, never used as a path.</summary>
    private static string CleanFileName(string fileName)
    {
        var name = Path.GetFileName(fileName.Replace('\\', '/'));
        name = new string(name.Where(c => !char.IsControl(c)).ToArray()).Trim();
        return name.Length == 0 ? "upload" : name.Length > 200 ? name[..200] : name;
    }
}
