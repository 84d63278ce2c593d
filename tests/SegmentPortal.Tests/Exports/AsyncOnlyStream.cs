namespace SegmentPortal.Tests.Exports;

/// <summary>
/// A destination like an HTTP response body: write-only, not seekable, and synchronous writes throw (Kestrel refuses
/// them by default). Keeps what is written unless <paramref name="keep"/> is false, in which case it only counts.
/// </summary>
internal sealed class AsyncOnlyStream(bool keep = true) : Stream
{
    private readonly MemoryStream _kept = new();

    public long BytesWritten { get; private set; }

    public int Writes { get; private set; }

    public byte[] ToArray() => keep ? _kept.ToArray() : throw new InvalidOperationException("This stream only counts.");

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (keep)
        {
            _kept.Write(buffer.Span);
        }
        BytesWritten += buffer.Length;
        Writes++;
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Write(byte[] buffer, int offset, int count) =>
        throw new InvalidOperationException("Synchronous writes are not allowed.");

    public override void Write(ReadOnlySpan<byte> buffer) =>
        throw new InvalidOperationException("Synchronous writes are not allowed.");

    public override void Flush() => throw new InvalidOperationException("Synchronous flushes are not allowed.");

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _kept.Dispose();
        }
        base.Dispose(disposing);
    }
}
