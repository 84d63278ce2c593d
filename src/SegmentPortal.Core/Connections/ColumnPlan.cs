using System.Collections;
using System.Data.Common;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.RegularExpressions;
using DuckDB.NET.Data;

namespace SegmentPortal.Core.Connections;

/// <summary>The .NET value a column is normalised to before it is previewed or appended.</summary>
internal enum ValueKind
{
    Boolean,
    Int16,
    Int32,
    Int64,
    Single,
    Double,
    Decimal,
    Text,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Uuid,
    Blob,
}

/// <summary>How one source column is read and which warehouse type it becomes.</summary>
internal sealed record ColumnPlan(string Name, string SourceType, string WarehouseType, ValueKind Kind, ValueReader Read)
{
    public SourceColumn ToSourceColumn() => new(Name, SourceType, WarehouseType);
}

internal delegate object? ValueReader(DbDataReader reader, int ordinal);

/// <summary>
/// Chooses warehouse types from a reader's schema and reads values as those types. PostgreSQL and SQL Server report
/// real types; SQLite reports declared types only (any value may sit in any column), so its values are converted one
/// by one and a value that does not fit stops the import with the row and column.
/// </summary>
internal static partial class ColumnPlanner
{
    public static IReadOnlyList<ColumnPlan> Plan(DbDataReader reader, ConnectionKind kind, bool onFirstRow)
    {
        var schema = kind == ConnectionKind.SqlServer ? TryGetSchema(reader) : null;
        var names = UniqueNames(Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList());
        var plans = new List<ColumnPlan>(reader.FieldCount);
        for (var i = 0; i < reader.FieldCount; i++)
        {
            var dataTypeName = SafeDataTypeName(reader, i);
            var (kindOf, warehouseType, read) = kind switch
            {
                ConnectionKind.Sqlite => PlanSqlite(reader, i, dataTypeName, onFirstRow),
                _ => PlanTyped(kind, reader.GetFieldType(i), dataTypeName, schema?[i].NumericPrecision, schema?[i].NumericScale),
            };
            plans.Add(new ColumnPlan(names[i], dataTypeName, warehouseType, kindOf, read));
        }
        return plans;
    }

    /// <summary>Blank names become column_N; repeats (compared case-insensitively, as DuckDB does) get _2, _3...</summary>
    public static IReadOnlyList<string> UniqueNames(IReadOnlyList<string?> names)
    {
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var result = new List<string>(names.Count);
        for (var i = 0; i < names.Count; i++)
        {
            var name = names[i]?.Trim() ?? "";
            if (name.Length == 0 || name == "?column?")
            {
                name = $"column_{i + 1}";
            }
            var candidate = name;
            for (var n = 2; !used.Add(candidate); n++)
            {
                candidate = $"{name}_{n}";
            }
            result.Add(candidate);
        }
        return result;
    }

    /// <summary>The type a PostgreSQL or SQL Server column gets, from its .NET type and the server's type name.</summary>
    internal static (ValueKind Kind, string WarehouseType, ValueReader Read) PlanTyped(
        ConnectionKind kind, Type fieldType, string dataTypeName, int? precision, int? scale)
    {
        var type = Nullable.GetUnderlyingType(fieldType) ?? fieldType;
        var name = dataTypeName.ToLowerInvariant();
        if (kind == ConnectionKind.PostgreSql && TypeModifiers().Match(name) is { Success: true } m)
        {
            // Npgsql names numeric(12, 2) with its modifiers.
            precision = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            scale = m.Groups[2].Success ? int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : 0;
        }

        if (type == typeof(bool))
        {
            return (ValueKind.Boolean, "BOOLEAN", (r, i) => r.GetBoolean(i));
        }
        if (type == typeof(byte))
        {
            return (ValueKind.Int16, "SMALLINT", (r, i) => (short)r.GetByte(i));
        }
        if (type == typeof(short))
        {
            return (ValueKind.Int16, "SMALLINT", (r, i) => r.GetInt16(i));
        }
        if (type == typeof(int))
        {
            return (ValueKind.Int32, "INTEGER", (r, i) => r.GetInt32(i));
        }
        if (type == typeof(long))
        {
            return (ValueKind.Int64, "BIGINT", (r, i) => r.GetInt64(i));
        }
        if (type == typeof(float))
        {
            return (ValueKind.Single, "FLOAT", (r, i) => r.GetFloat(i));
        }
        if (type == typeof(double))
        {
            return (ValueKind.Double, "DOUBLE", (r, i) => r.GetDouble(i));
        }
        if (type == typeof(decimal))
        {
            if (name == "money" && kind == ConnectionKind.PostgreSql)
            {
                return (ValueKind.Decimal, "DECIMAL(19,2)", (r, i) => r.GetDecimal(i));
            }
            if (precision is > 0 and <= 38)
            {
                var s = Math.Clamp(scale ?? 0, 0, precision.Value);
                return (ValueKind.Decimal, $"DECIMAL({precision},{s})", ReadDecimal);
            }
            // PostgreSQL's numeric without a precision can hold any size: a double keeps the magnitude.
            return (ValueKind.Double, "DOUBLE", ReadUnboundedNumeric);
        }
        if (type == typeof(string) || type == typeof(char))
        {
            return (ValueKind.Text, "VARCHAR", (r, i) => type == typeof(string) ? r.GetString(i) : Convert.ToString(r.GetValue(i), CultureInfo.InvariantCulture));
        }
        if (type == typeof(DateOnly) || (type == typeof(DateTime) && name == "date"))
        {
            return (ValueKind.Date, "DATE", (r, i) => r.GetValue(i) switch
            {
                DateOnly d => d,
                DateTime dt => DateOnly.FromDateTime(dt),
                var other => throw new InvalidCastException($"Expected a date, got {other?.GetType().Name}."),
            });
        }
        if (type == typeof(DateTime))
        {
            if (name.StartsWith("timestamp with time zone", StringComparison.Ordinal) || name == "timestamptz")
            {
                return (ValueKind.TimestampTz, "TIMESTAMPTZ", (r, i) => r.GetFieldValue<DateTimeOffset>(i));
            }
            return (ValueKind.Timestamp, "TIMESTAMP", (r, i) => DateTime.SpecifyKind(r.GetDateTime(i), DateTimeKind.Unspecified));
        }
        if (type == typeof(DateTimeOffset))
        {
            if (name.StartsWith("time with time zone", StringComparison.Ordinal) || name == "timetz")
            {
                return (ValueKind.Text, "VARCHAR", (r, i) =>
                    r.GetFieldValue<DateTimeOffset>(i).ToString("HH:mm:ss.FFFFFFzzz", CultureInfo.InvariantCulture));
            }
            return (ValueKind.TimestampTz, "TIMESTAMPTZ", (r, i) => r.GetFieldValue<DateTimeOffset>(i));
        }
        if (type == typeof(TimeOnly) || (type == typeof(TimeSpan) && name.StartsWith("time", StringComparison.Ordinal)))
        {
            return (ValueKind.Time, "TIME", (r, i) => r.GetValue(i) switch
            {
                TimeOnly t => t,
                TimeSpan ts => TimeOnly.FromTimeSpan(ts),
                var other => throw new InvalidCastException($"Expected a time of day, got {other?.GetType().Name}."),
            });
        }
        if (type == typeof(Guid))
        {
            return (ValueKind.Uuid, "UUID", (r, i) => r.GetGuid(i));
        }
        if (type == typeof(byte[]))
        {
            return (ValueKind.Blob, "BLOB", (r, i) => r.GetFieldValue<byte[]>(i));
        }
        if (kind == ConnectionKind.PostgreSql && name == "interval")
        {
            // Months and days are not fixed lengths of time: written out as PostgreSQL does, which DuckDB can cast.
            return (ValueKind.Text, "VARCHAR", (r, i) => r.GetFieldValue<NpgsqlTypes.NpgsqlInterval>(i) is var v
                ? $"{v.Months} months {v.Days} days {TimeSpan.FromTicks(v.Time * 10):c}"
                : null);
        }
        // json, xml, arrays, network addresses, ranges...: kept as text.
        return (ValueKind.Text, "VARCHAR", (r, i) => FormatAsText(r.GetValue(i)));
    }

    private static object ReadDecimal(DbDataReader reader, int ordinal)
    {
        try
        {
            return reader.GetDecimal(ordinal);
        }
        catch (OverflowException)
        {
            throw new InvalidCastException("The number is too large for the portal's decimal type; CAST it to a float in a query.");
        }
    }

    private static object ReadUnboundedNumeric(DbDataReader reader, int ordinal)
    {
        try
        {
            return (double)reader.GetDecimal(ordinal);
        }
        catch (OverflowException)
        {
            // Beyond decimal's range (about 7.9e28): read the integer part exactly, then as a double.
            return (double)reader.GetFieldValue<BigInteger>(ordinal);
        }
    }

    private static (ValueKind, string, ValueReader) PlanSqlite(DbDataReader reader, int ordinal, string declared, bool onFirstRow)
    {
        var d = declared.ToUpperInvariant();
        if (d.Length == 0)
        {
            // An expression: take the type of the first row's value.
            var value = onFirstRow && !reader.IsDBNull(ordinal) ? reader.GetValue(ordinal) : null;
            d = value switch
            {
                long => "INTEGER",
                double => "REAL",
                byte[] => "BLOB",
                _ => "TEXT",
            };
        }
        // SQLite's own affinity rules, in its order, with a few well-known names made more specific.
        if (d.Contains("INT", StringComparison.Ordinal))
        {
            return (ValueKind.Int64, "BIGINT", (r, i) => SqliteValues.ToInt64(r.GetValue(i)));
        }
        if (d.Contains("CHAR", StringComparison.Ordinal) || d.Contains("CLOB", StringComparison.Ordinal) || d.Contains("TEXT", StringComparison.Ordinal))
        {
            return (ValueKind.Text, "VARCHAR", (r, i) => SqliteValues.ToText(r.GetValue(i)));
        }
        if (d.Contains("BLOB", StringComparison.Ordinal))
        {
            return (ValueKind.Blob, "BLOB", (r, i) => SqliteValues.ToBlob(r.GetValue(i)));
        }
        if (d.Contains("REAL", StringComparison.Ordinal) || d.Contains("FLOA", StringComparison.Ordinal) || d.Contains("DOUB", StringComparison.Ordinal))
        {
            return (ValueKind.Double, "DOUBLE", (r, i) => SqliteValues.ToDouble(r.GetValue(i)));
        }
        if (d.Contains("BOOL", StringComparison.Ordinal))
        {
            return (ValueKind.Boolean, "BOOLEAN", (r, i) => SqliteValues.ToBoolean(r.GetValue(i)));
        }
        if (d.Contains("DATETIME", StringComparison.Ordinal) || d.Contains("TIMESTAMP", StringComparison.Ordinal))
        {
            return (ValueKind.Timestamp, "TIMESTAMP", (r, i) => SqliteValues.ToTimestamp(r.GetValue(i)));
        }
        if (d.Contains("DATE", StringComparison.Ordinal))
        {
            return (ValueKind.Date, "DATE", (r, i) => SqliteValues.ToDate(r.GetValue(i)));
        }
        // NUMERIC affinity (NUMERIC, DECIMAL(10,2), MONEY...): SQLite stores these as integers or floats.
        return (ValueKind.Double, "DOUBLE", (r, i) => SqliteValues.ToDouble(r.GetValue(i)));
    }

    /// <summary>Appends one normalised value (null included) in the column's type.</summary>
    public static IDuckDBAppenderRow Append(IDuckDBAppenderRow row, ValueKind kind, object? value)
    {
        if (value is null)
        {
            return row.AppendNullValue();
        }
        return kind switch
        {
            ValueKind.Boolean => row.AppendValue((bool?)value),
            ValueKind.Int16 => row.AppendValue((short?)value),
            ValueKind.Int32 => row.AppendValue((int?)value),
            ValueKind.Int64 => row.AppendValue((long?)value),
            ValueKind.Single => row.AppendValue((float?)value),
            ValueKind.Double => row.AppendValue((double?)value),
            ValueKind.Decimal => row.AppendValue((decimal?)value),
            ValueKind.Text => row.AppendValue((string)value),
            ValueKind.Date => row.AppendValue((DuckDB.NET.Native.DuckDBDateOnly?)(DuckDB.NET.Native.DuckDBDateOnly)(DateOnly)value),
            ValueKind.Time => row.AppendValue((DuckDB.NET.Native.DuckDBTimeOnly?)(DuckDB.NET.Native.DuckDBTimeOnly)(TimeOnly)value),
            ValueKind.Timestamp => row.AppendValue((DateTime?)value),
            ValueKind.TimestampTz => row.AppendValue((DateTimeOffset?)value),
            ValueKind.Uuid => row.AppendValue((Guid?)value),
            ValueKind.Blob => row.AppendValue((byte[])value),
            _ => throw new InvalidOperationException($"Unknown value kind {kind}."),
        };
    }

    /// <summary>Text for types the warehouse has no column type for: arrays as JSON, everything else invariantly.</summary>
    internal static string FormatAsText(object value) => value switch
    {
        string s => s,
        byte[] bytes => Convert.ToHexString(bytes),
        BitArray bits => string.Concat(bits.Cast<bool>().Select(b => b ? '1' : '0')),
        IEnumerable items => FormatEnumerable(items),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string FormatEnumerable(IEnumerable items)
    {
        try
        {
            return JsonSerializer.Serialize(items.Cast<object?>().ToList());
        }
        catch (NotSupportedException)
        {
            return "[" + string.Join(", ", items.Cast<object?>().Select(i => i is null ? "null" : FormatAsText(i))) + "]";
        }
    }

    private static string SafeDataTypeName(DbDataReader reader, int ordinal)
    {
        try
        {
            return reader.GetDataTypeName(ordinal) ?? "";
        }
        catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException or IndexOutOfRangeException)
        {
            return "";
        }
    }

    private static IReadOnlyList<DbColumn>? TryGetSchema(DbDataReader reader)
    {
        try
        {
            return reader.CanGetColumnSchema() ? reader.GetColumnSchema() : null;
        }
        catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"^(?:numeric|decimal)\((\d+)(?:,\s*(\d+))?\)")]
    private static partial Regex TypeModifiers();
}

/// <summary>SQLite values (long, double, string or byte[], whatever the column says) converted to one type.</summary>
internal static class SqliteValues
{
    private static readonly string[] DateFormats = ["yyyy-MM-dd", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFFF", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-ddTHH:mm:ss.FFFFFFF", "yyyy-MM-dd HH:mm", "yyyy-MM-ddTHH:mm"];

    public static long ToInt64(object value) => value switch
    {
        long l => l,
        double d when Math.Floor(d) == d && d is >= long.MinValue and <= long.MaxValue => (long)d,
        string s when long.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => l,
        _ => throw Mismatch(value, "a whole number"),
    };

    public static double ToDouble(object value) => value switch
    {
        long l => l,
        double d => d,
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => throw Mismatch(value, "a number"),
    };

    public static bool ToBoolean(object value) => value switch
    {
        long l => l != 0,
        double d => d != 0,
        string s when s.Trim() is "1" or "0" => s.Trim() == "1",
        string s when bool.TryParse(s.Trim(), out var b) => b,
        _ => throw Mismatch(value, "true or false"),
    };

    public static string ToText(object value) => value switch
    {
        string s => s,
        byte[] bytes => Convert.ToHexString(bytes),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    public static byte[] ToBlob(object value) => value switch
    {
        byte[] bytes => bytes,
        string s => System.Text.Encoding.UTF8.GetBytes(s),
        _ => throw Mismatch(value, "binary data"),
    };

    public static DateOnly ToDate(object value) => DateOnly.FromDateTime(ToTimestamp(value));

    public static DateTime ToTimestamp(object value) => value switch
    {
        string s when DateTime.TryParseExact(s.Trim(), DateFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var dt) => dt,
        long seconds => DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime,
        double julianDay => DateTime.UnixEpoch.AddDays(julianDay - 2440587.5),
        _ => throw Mismatch(value, "a date and time"),
    };

    private static InvalidCastException Mismatch(object value, string expected)
    {
        var shown = value is string s ? $"'{(s.Length > 40 ? s[..40] + "…" : s)}'" : ToText(value);
        return new InvalidCastException($"{shown} is not {expected}.");
    }
}
