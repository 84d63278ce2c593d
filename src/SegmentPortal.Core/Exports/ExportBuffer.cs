using System.Buffers;
using System.Globalization;
using System.Text;

namespace SegmentPortal.Core.Exports;

/// <summary>
/// Collects what the writers produce (synchronously: the Open XML SDK, the zip and deflate streams only write that
/// way) and hands it to the destination asynchronously, between rows, once <see cref="DrainThreshold"/> bytes are
/// waiting. So the destination is only ever written asynchronously (an HTTP response body forbids synchronous
/// writes), and no more than about one threshold plus one row is held at a time.
/// </summary>
internal sealed class ExportBuffer : Stream
{
    public const int DrainThreshold = 1 << 16;

    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(DrainThreshold * 2);
    private int _count;
    private long _written;
    private TextView? _text;

    /// <summary>Enough is waiting to be worth a write to the destination.</summary>
    public bool ShouldDrain => _count >= DrainThreshold;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    /// <summary>Bytes written so far, drained or not (a zip writer on a stream that cannot seek asks for it).</summary>
    public override long Position
    {
        get => _written;
        set => throw new NotSupportedException();
    }

    /// <summary>Text written here goes straight into the buffer as UTF-8 (nothing is held back until a flush).</summary>
    public TextWriter Text => _text ??= new TextView(this);

    /// <summary>Appends text as UTF-8.</summary>
    public void WriteText(ReadOnlySpan<char> text)
    {
        Reserve(Encoding.UTF8.GetMaxByteCount(text.Length));
        var bytes = Encoding.UTF8.GetBytes(text, _buffer.AsSpan(_count));
        _count += bytes;
        _written += bytes;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Reserve(buffer.Length);
        buffer.CopyTo(_buffer.AsSpan(_count));
        _count += buffer.Length;
        _written += buffer.Length;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void WriteByte(byte value) => Write([value]);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    /// <summary>Writes what is waiting to <paramref name="destination"/> and empties the buffer.</summary>
    public async ValueTask DrainAsync(Stream destination, CancellationToken cancellationToken)
    {
        if (_count == 0)
        {
            return;
        }
        await destination.WriteAsync(_buffer.AsMemory(0, _count), cancellationToken);
        _count = 0;
        if (_buffer.Length > DrainThreshold * 4)
        {
            // Grown for one very long row: give the large array back.
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = ArrayPool<byte>.Shared.Rent(DrainThreshold * 2);
        }
    }

    // Nothing to flush: what is written stays here until DrainAsync.
    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && _buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
            _count = 0;
        }
        base.Dispose(disposing);
    }

    private void Reserve(int bytes)
    {
        ObjectDisposedException.ThrowIf(_buffer.Length == 0, this);
        if (_buffer.Length - _count >= bytes)
        {
            return;
        }
        // A row (or one very long value) larger than what is left: grow until the next drain.
        var larger = ArrayPool<byte>.Shared.Rent(checked(_count + bytes));
        _buffer.AsSpan(0, _count).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }

    /// <summary>The buffer as a <see cref="TextWriter"/>, for the CSV writer.</summary>
    private sealed class TextView(ExportBuffer owner) : TextWriter(CultureInfo.InvariantCulture)
    {
        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value) => owner.WriteText([value]);

        public override void Write(ReadOnlySpan<char> buffer) => owner.WriteText(buffer);

        public override void Write(string? value) => owner.WriteText(value);

        public override void Write(char[] buffer, int index, int count) => owner.WriteText(buffer.AsSpan(index, count));
    }
}
