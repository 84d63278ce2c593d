using System.Globalization;
using System.IO.Compression;
using SegmentPortal.Core.Import.Text;

namespace SegmentPortal.Core.Import.Excel;

/// <summary>
/// Checks an uploaded file before the Open XML SDK sees it: that it is a zip at all (and if not, what it is), and
/// that its directory does not promise more than <see cref="XlsxLimits"/> allow.
/// </summary>
internal static class XlsxPackageGuard
{
    /// <summary>Parts smaller than this are not held to the compression ratio.</summary>
    internal const long RatioCheckMinimumBytes = 1 << 20;

    private static readonly byte[] ZipSignature = [0x50, 0x4B, 0x03, 0x04];
    private static readonly byte[] EmptyZipSignature = [0x50, 0x4B, 0x05, 0x06];

    // OLE compound files: Excel saves password-protected workbooks (even .xlsx) this way, and old .xls files too.
    private static readonly byte[] CompoundFileSignature = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

    /// <summary>
    /// Checks the signature and the zip directory. Returns each entry's packed size by name, for the ratio check
    /// while reading.
    /// </summary>
    public static Dictionary<string, long> Inspect(string path, string displayName, XlsxLimits limits)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        CheckSignature(file, displayName);
        file.Position = 0;

        ZipArchive zip;
        try
        {
            zip = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException ex)
        {
            throw NotAWorkbook(displayName, ex);
        }
        using (zip)
        {
            var packedSizes = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase);
            long total = 0;
            foreach (var entry in zip.Entries)
            {
                total = total > long.MaxValue - entry.Length ? long.MaxValue : total + entry.Length;
                if (total > limits.MaxUncompressedBytes)
                {
                    throw TooLarge(displayName, limits);
                }
                if (entry.Length > RatioCheckMinimumBytes && entry.Length > limits.MaxCompressionRatio * Math.Max(1, entry.CompressedLength))
                {
                    throw Overcompressed(displayName, entry.Length / (double)Math.Max(1, entry.CompressedLength));
                }
                packedSizes[entry.FullName] = entry.CompressedLength;
            }
            if (!packedSizes.ContainsKey("[Content_Types].xml"))
            {
                throw NotAWorkbook(displayName);
            }
            return packedSizes;
        }
    }

    private static void CheckSignature(Stream file, string displayName)
    {
        Span<byte> head = stackalloc byte[8];
        var read = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        head = head[..read];
        if (head.StartsWith(ZipSignature) || head.StartsWith(EmptyZipSignature))
        {
            return;
        }
        if (head.SequenceEqual(CompoundFileSignature))
        {
            throw new PortalException(
                $"{displayName} is password-protected or saved in the old Excel 97-2003 (.xls) format, so it cannot be read. " +
                "Remove the password or save it as an Excel workbook (.xlsx), then upload it again.");
        }

        file.Position = 0;
        var sample = new byte[4096];
        var sampleLength = file.ReadAtLeast(sample, sample.Length, throwOnEndOfStream: false);
        if (sampleLength > 0 && !TextEncodings.Detect(sample.AsSpan(0, sampleLength), isWholeFile: sampleLength < sample.Length).IsBinary)
        {
            throw new PortalException(
                $"{displayName} is not an Excel workbook: it looks like a text (CSV) file. Upload it with a .csv file name instead.");
        }
        throw NotAWorkbook(displayName);
    }

    public static PortalException NotAWorkbook(string displayName, Exception? inner = null) =>
        new($"{displayName} is not a valid Excel workbook (it may be damaged or password-protected).", inner);

    public static PortalException TooLarge(string displayName, XlsxLimits limits) =>
        new($"{displayName} expands to more than {FormatBytes(limits.MaxUncompressedBytes)} when unpacked; it looks like a zip bomb and was not read.");

    public static PortalException Overcompressed(string displayName, double ratio) =>
        new(string.Create(CultureInfo.InvariantCulture,
            $"{displayName} unpacks to {ratio:N0} times its packed size, far more than real workbooks do; it looks like a zip bomb and was not read."));

    internal static string FormatBytes(long bytes)
    {
        const long Kib = 1L << 10, Mib = 1L << 20, Gib = 1L << 30;
        return bytes switch
        {
            >= Gib => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)Gib:0.#} GB"),
            >= Mib => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)Mib:0.#} MB"),
            >= Kib => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)Kib:0.#} KB"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{bytes:N0} bytes"),
        };
    }
}

/// <summary>
/// Counts the bytes read from a part's unpacked stream against the workbook's budget, in case the zip directory
/// understated a part's size: reading stops once the workbook has unpacked more than the limit allows.
/// </summary>
internal sealed class XlsxReadBudget(string displayName, XlsxLimits limits)
{
    public long BytesRead { get; private set; }

    public Stream Wrap(Stream partStream, long? packedSize) => new CountingStream(partStream, this, packedSize);

    private void Add(int count, long partRead, long? packedSize)
    {
        BytesRead += count;
        if (BytesRead > limits.MaxUncompressedBytes)
        {
            throw XlsxPackageGuard.TooLarge(displayName, limits);
        }
        if (packedSize is { } packed && partRead > XlsxPackageGuard.RatioCheckMinimumBytes
            && partRead > limits.MaxCompressionRatio * Math.Max(1, packed))
        {
            throw XlsxPackageGuard.Overcompressed(displayName, partRead / (double)Math.Max(1, packed));
        }
    }

    private sealed class CountingStream(Stream inner, XlsxReadBudget budget, long? packedSize) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _read;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var read = inner.Read(buffer);
            Count(read);
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            Count(read);
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private void Count(int read)
        {
            _read += read;
            budget.Add(read, _read, packedSize);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
