using System.Text;

namespace SegmentPortal.Core.Import;

/// <summary>The delimiter and header of a delimited text file, with the header names made usable.</summary>
internal sealed record CsvLayout(char Delimiter, IReadOnlyList<string> Columns, IReadOnlyList<string> Renames);

/// <summary>
/// Reads the first lines of a UTF-8 delimited file to settle the delimiter and the column names before DuckDB reads it.
/// Doing this ourselves means empty and duplicate headers get names we choose and can report, and a file whose rows
/// do not line up gets an error naming the line instead of a vague "could not detect the dialect".
/// </summary>
internal static class CsvLayoutReader
{
    private static readonly char[] Candidates = [',', ';', '\t', '|'];
    private const int SampleLines = 50;

    public static async Task<CsvLayout> ReadAsync(string path, char? delimiter, CancellationToken cancellationToken)
    {
        var lines = new List<List<string>>();
        var chosen = delimiter;
        await using var stream = File.OpenRead(path);
        using var reader = new StreamReader(stream, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true, 1 << 16);
        var sample = new List<string>();
        for (var i = 0; i < SampleLines; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var record = await ReadRecordTextAsync(reader);
            if (record is null)
            {
                break;
            }
            sample.Add(record);
        }
        if (sample.Count == 0 || sample[0].Trim().Length == 0)
        {
            throw new PortalException("has no header row (the first line is empty).");
        }

        chosen ??= Detect(sample);
        var header = Split(sample[0], chosen.Value);
        var (names, renames) = FixNames(header);
        return new CsvLayout(chosen.Value, names, renames);
    }

    /// <summary>The candidate that splits the header into most fields and the following lines into as many.</summary>
    internal static char Detect(IReadOnlyList<string> sample)
    {
        var best = ',';
        var bestScore = (Consistent: -1, Fields: 1);
        foreach (var candidate in Candidates)
        {
            var fields = Split(sample[0], candidate).Count;
            if (fields < 2)
            {
                continue;
            }
            var consistent = sample.Skip(1).Count(line => Split(line, candidate).Count == fields);
            var score = (consistent, fields);
            if (score.CompareTo(bestScore) > 0)
            {
                best = candidate;
                bestScore = score;
            }
        }
        return best;
    }

    internal static (List<string> Names, List<string> Renames) FixNames(IReadOnlyList<string> header)
    {
        var names = new List<string>(header.Count);
        var renames = new List<string>();
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < header.Count; i++)
        {
            var original = header[i].Trim();
            var name = original.Length == 0 ? $"column_{i + 1}" : original;
            if (name.Length > 120)
            {
                name = name[..120];
            }
            var unique = name;
            for (var n = 2; !used.Add(unique); n++)
            {
                unique = $"{name}_{n}";
            }
            if (original.Length == 0)
            {
                renames.Add($"Column {i + 1} had no header; it is called \"{unique}\".");
            }
            else if (unique != original)
            {
                renames.Add($"Column {i + 1} repeats the header \"{original}\"; it is called \"{unique}\".");
            }
            names.Add(unique);
        }
        return (names, renames);
    }

    /// <summary>Splits one record on the delimiter, honouring double quotes.</summary>
    internal static List<string> Split(string record, char delimiter)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < record.Length; i++)
        {
            var c = record[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < record.Length && record[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"' && field.Length == 0)
            {
                quoted = true;
            }
            else if (c == delimiter)
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }
        fields.Add(field.ToString());
        return fields;
    }

    /// <summary>One record's text: a physical line, or several while a quoted field is open. Null at the end.</summary>
    private static async Task<string?> ReadRecordTextAsync(StreamReader reader)
    {
        var line = await reader.ReadLineAsync();
        if (line is null)
        {
            return null;
        }
        var text = new StringBuilder(line);
        while (QuotesOpen(text) && (line = await reader.ReadLineAsync()) is not null)
        {
            text.Append('\n').Append(line);
        }
        return text.ToString();
    }

    private static bool QuotesOpen(StringBuilder text)
    {
        var count = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '"')
            {
                count++;
            }
        }
        return count % 2 == 1;
    }
}

/// <summary>Finds the first place a delimited file breaks its own shape, to tell the user where to look.</summary>
internal static class CsvDiagnostics
{
    public sealed record Problem(long Line, string Message);

    public static async Task<Problem?> FindAsync(string path, char delimiter, IReadOnlyList<string> columns, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        using var reader = new StreamReader(stream, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true, 1 << 16);
        long lineNumber = 0;
        var fields = 1;
        var quoted = false;
        var atFieldStart = true;
        long recordStart = 1;
        long quoteOpenedAt = 0;
        var quotedColumn = 0;
        var buffer = new char[1 << 16];
        var previous = '\0';
        var header = true;
        int read;
        lineNumber = 1;
        while ((read = await reader.ReadAsync(buffer, cancellationToken)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                var c = buffer[i];
                if (quoted)
                {
                    if (c == '"')
                    {
                        quoted = false; // a doubled quote re-opens just below
                    }
                    else if (c == '\n')
                    {
                        lineNumber++;
                    }
                    previous = c;
                    continue;
                }
                if (c == '"' && (atFieldStart || previous == '"'))
                {
                    quoted = true;
                    if (atFieldStart)
                    {
                        quoteOpenedAt = lineNumber;
                        quotedColumn = fields;
                    }
                    atFieldStart = false;
                }
                else if (c == delimiter)
                {
                    fields++;
                    atFieldStart = true;
                }
                else if (c == '\n')
                {
                    if (!(fields == 1 && atFieldStart && previous is '\n' or '\0'))
                    {
                        if (!header && fields != columns.Count)
                        {
                            return new Problem(recordStart, Mismatch(columns, fields));
                        }
                    }
                    header = false;
                    lineNumber++;
                    recordStart = lineNumber;
                    fields = 1;
                    atFieldStart = true;
                }
                else if (c != '\r')
                {
                    atFieldStart = false;
                }
                previous = c;
            }
        }
        if (quoted)
        {
            var column = quotedColumn - 1 < columns.Count ? $"column \"{columns[quotedColumn - 1]}\"" : $"column {quotedColumn}";
            return new Problem(quoteOpenedAt, $"a quoted value in {column} is never closed (a \" is missing).");
        }
        if (!header && !atFieldStart && fields != columns.Count)
        {
            return new Problem(recordStart, Mismatch(columns, fields));
        }
        return null;
    }

    private static string Mismatch(IReadOnlyList<string> columns, int fields) => fields < columns.Count
        ? $"expected {columns.Count} values but found {fields}; column \"{columns[fields]}\" onwards is missing."
        : $"expected {columns.Count} values but found {fields} (more values than headers).";
}
