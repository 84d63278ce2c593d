using System.Buffers;
using System.Text;

namespace SegmentPortal.Core.Import.Excel;

/// <summary>
/// Writes RFC 4180 CSV in UTF-8 without BOM: records end with CRLF, and a field is quoted (its quotes doubled) when it
/// holds a comma, a quote, a CR or a LF.
/// </summary>
internal sealed class CsvWriter : IDisposable
{
    private static readonly SearchValues<char> NeedsQuoting = SearchValues.Create(",\"\r\n");

    private readonly StreamWriter _writer;

    public CsvWriter(string path)
    {
        _writer = new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 1 << 16)
        {
            NewLine = "\r\n",
        };
    }

    public void WriteRecord(IReadOnlyList<string?> fields, int width)
    {
        for (var i = 0; i < width; i++)
        {
            if (i > 0)
            {
                _writer.Write(',');
            }
            var field = i < fields.Count ? fields[i] : null;
            if (string.IsNullOrEmpty(field))
            {
                continue;
            }
            if (field.AsSpan().IndexOfAny(NeedsQuoting) < 0)
            {
                _writer.Write(field);
                continue;
            }
            _writer.Write('"');
            _writer.Write(field.Replace("\"", "\"\"", StringComparison.Ordinal));
            _writer.Write('"');
        }
        _writer.WriteLine();
    }

    public void Dispose() => _writer.Dispose();
}
