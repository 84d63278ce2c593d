using System.Buffers;
using System.Text;

namespace SegmentPortal.Core.Common;

/// <summary>
/// The portal's one CSV writer, RFC 4180: fields separated by commas, every record ended by CRLF, and a field in
/// double quotes (its quotes doubled) when it holds a comma, a quote, a CR or a LF. It writes text as given: turning
/// values into text, a byte order mark and the formula-injection guard are the caller's (the table exports add both,
/// the Excel-to-CSV conversion for imports neither, since it must keep the data as it is).
/// </summary>
internal sealed class CsvWriter : IDisposable
{
    /// <summary>What ends every record.</summary>
    public const string RecordEnd = "\r\n";

    private static readonly SearchValues<char> NeedsQuoting = SearchValues.Create(",\"\r\n");

    private readonly TextWriter _writer;
    private readonly bool _ownsWriter;
    private bool _inRecord;

    /// <summary>Writes to <paramref name="writer"/>, which the caller keeps and disposes.</summary>
    public CsvWriter(TextWriter writer)
        : this(writer, ownsWriter: false)
    {
    }

    private CsvWriter(TextWriter writer, bool ownsWriter)
    {
        ArgumentNullException.ThrowIfNull(writer);
        _writer = writer;
        _ownsWriter = ownsWriter;
    }

    /// <summary>A writer to a new file at <paramref name="path"/> (replacing one there), UTF-8 without a byte order mark.</summary>
    public static CsvWriter CreateFile(string path) =>
        new(new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 1 << 16), ownsWriter: true);

    /// <summary>
    /// Writes one field of the current record. Null and empty text are an empty field; with
    /// <paramref name="quoteEmpty"/> an empty (not null) text is written as <c>""</c>, so a reader can tell it from null.
    /// </summary>
    public void WriteField(string? text, bool quoteEmpty = false)
    {
        if (_inRecord)
        {
            _writer.Write(',');
        }
        _inRecord = true;
        if (string.IsNullOrEmpty(text))
        {
            if (text is not null && quoteEmpty)
            {
                _writer.Write("\"\"");
            }
            return;
        }
        var rest = text.AsSpan();
        if (rest.IndexOfAny(NeedsQuoting) < 0)
        {
            _writer.Write(rest);
            return;
        }
        _writer.Write('"');
        int quote;
        while ((quote = rest.IndexOf('"')) >= 0)
        {
            _writer.Write(rest[..(quote + 1)]);
            _writer.Write('"');
            rest = rest[(quote + 1)..];
        }
        _writer.Write(rest);
        _writer.Write('"');
    }

    /// <summary>Ends the current record (CRLF).</summary>
    public void EndRecord()
    {
        _writer.Write(RecordEnd);
        _inRecord = false;
    }

    /// <summary>Writes a whole record of <paramref name="width"/> fields: missing fields at the end are empty.</summary>
    public void WriteRecord(IReadOnlyList<string?> fields, int width)
    {
        ArgumentNullException.ThrowIfNull(fields);
        for (var i = 0; i < width; i++)
        {
            WriteField(i < fields.Count ? fields[i] : null);
        }
        EndRecord();
    }

    public void Dispose()
    {
        if (_ownsWriter)
        {
            _writer.Dispose();
        }
        else
        {
            _writer.Flush();
        }
    }
}
