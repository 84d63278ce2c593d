using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;
using DuckDB.NET.Data;
using SegmentPortal.Core.Exports;

namespace SegmentPortal.Tests.Exports;

public sealed class ExportValueTests
{
    [Theory]
    [InlineData("1900-01-01", 1d)]
    [InlineData("1900-02-28", 59d)]
    [InlineData("1900-03-01", 61d)] // Excel's invented 1900-02-29 is serial 60.
    [InlineData("1970-01-01", 25569d)]
    [InlineData("2024-03-01", 45352d)]
    [InlineData("2024-03-01T18:00:00", 45352.75d)]
    [InlineData("9999-12-31", 2958465d)]
    public void Dates_become_Excel_serials(string date, double serial)
    {
        Assert.Equal(serial, ExportValue.ToSerial(DateTime.Parse(date, CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void Dates_before_1900_have_no_serial()
    {
        Assert.Null(ExportValue.ToSerial(new DateTime(1899, 12, 31, 23, 59, 59)));
    }

    public static TheoryData<object, string> WrittenAsTextInWorkbooks => new()
    {
        { 1_000_000_000_000_000L, "1000000000000000" },
        { -1_000_000_000_000_000L, "-1000000000000000" },
        { BigInteger.Pow(10, 20), "100000000000000000000" },
        { 1234567890123456789m, "1234567890123456789" },
        { new DateOnly(1899, 12, 31), "1899-12-31" },
        { new DateTime(1, 1, 1), "0001-01-01 00:00:00" },
        { TimeSpan.FromMinutes(-90), "-1:30:00" },
        { double.NaN, "NaN" },
        { double.NegativeInfinity, "-Infinity" },
        // Base64 may start with +, but its alphabet has no parentheses, so it cannot call a function: not prefixed.
        { new byte[] { 0xFB, 0xEF }, "++8=" },
    };

    [Theory]
    [MemberData(nameof(WrittenAsTextInWorkbooks))]
    public void Values_Excel_cannot_hold_become_text_that_is_not_prefixed(object value, string text)
    {
        var cell = ExportValue.Format(value);

        Assert.Equal(ExportKind.Literal, cell.Kind);
        Assert.Equal(text, cell.Text);
    }

    [Fact]
    public void Numbers_that_fit_Excel_stay_numbers()
    {
        Assert.Equal(ExportKind.Number, ExportValue.Format(999_999_999_999_999L).Kind);
        Assert.Equal(ExportKind.Number, ExportValue.Format(-5).Kind);
        // A decimal with a fraction is a measure, not an identifier: a number even with many digits.
        Assert.Equal(new ExportCell(ExportKind.Number, "12345678901234.5678", "12345678901234.5678"), ExportValue.Format(12345678901234.5678m));
    }

    [Fact]
    public async Task Rows_streamed_from_a_DuckDB_reader_are_exported_with_DuckDB_s_own_value_types()
    {
        var ct = TestContext.Current.CancellationToken;
        const string sql = """
            SELECT 1::BIGINT AS id, 'Zoë, 上海' AS name, 12.50::DECIMAL(10, 2) AS amount, 0.1::DOUBLE AS ratio, true AS active,
                   DATE '2024-03-01' AS joined, TIMESTAMP '2024-03-01 14:05:09' AS last_order, TIME '09:30:00' AS opens_at,
                   INTERVAL 36 HOUR AS session, 123456789012345678901234567890::HUGEINT AS big, '\xDE\xAD'::BLOB AS blob,
                   [1, 2] AS list, '=1+1' AS note
            UNION ALL
            SELECT 2, NULL, -2.50, -1.5, false, DATE '1999-12-31', TIMESTAMP '2000-01-01 00:00:00', TIME '23:59:59',
                   INTERVAL 90 MINUTE, -5, NULL, [], '-5'
            ORDER BY id
            """;
        await using var connection = new DuckDBConnection("DataSource=:memory:");
        await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync(ct);
        var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();

        var destination = new AsyncOnlyStream();
        var written = await TableExport.WriteCsvAsync(columns, Read(reader, ct), destination, ct);

        Assert.Equal(2, written);
        Assert.Equal(
            "\uFEFFid,name,amount,ratio,active,joined,last_order,opens_at,session,big,blob,list,note\r\n" +
            "1,\"Zoë, 上海\",12.50,0.1,true,2024-03-01,2024-03-01 14:05:09,09:30:00,36:00:00,123456789012345678901234567890,3q0=,\"[1, 2]\",'=1+1\r\n" +
            "2,,-2.50,-1.5,false,1999-12-31,2000-01-01 00:00:00,23:59:59,1:30:00,-5,,[],'-5\r\n",
            Encoding.UTF8.GetString(destination.ToArray()));
    }

    /// <summary>Rows as a warehouse export will stream them: one at a time, while the reader is on that row.</summary>
    private static async IAsyncEnumerable<object?[]> Read(System.Data.Common.DbDataReader reader, [EnumeratorCancellation] CancellationToken ct)
    {
        while (await reader.ReadAsync(ct))
        {
            var values = new object?[reader.FieldCount];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }
            yield return values;
        }
    }
}
