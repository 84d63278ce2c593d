using SegmentPortal.Core.Import.Excel;

namespace SegmentPortal.Tests.Import.Excel;

public sealed class XlsxValueFormatterTests
{
    // Kinds are passed by name: the enum is internal to Core, and test methods are public.
    [Theory]
    [InlineData("yyyy-mm-dd", "Date")]
    [InlineData("d/m/yy", "Date")]
    [InlineData("mmm-yy", "Date")]
    [InlineData("dd.mm.yyyy hh:mm", "DateTime")]
    [InlineData("m/d/yyyy h:mm AM/PM", "DateTime")]
    [InlineData("h:mm:ss", "Time")]
    [InlineData("mm:ss", "Time")]
    [InlineData("[h]:mm:ss", "Elapsed")]
    [InlineData("[mm]:ss", "Elapsed")]
    [InlineData("yyyy\"年\"m\"月\"d\"日\"", "Date")]
    [InlineData("[$-F800]dddd, mmmm dd, yyyy", "Date")]
    [InlineData("[Red][<=100]yyyy-mm-dd;@", "Date")]
    [InlineData("General", "None")]
    [InlineData("0.00", "None")]
    [InlineData("#,##0 \"days\"", "None")]
    [InlineData("0.00\\h", "None")]
    [InlineData("[$USD-409] #,##0.00", "None")]
    [InlineData("[Red]0.00;[Blue]-0.00", "None")]
    [InlineData("0.00E+00", "None")]
    [InlineData("0;-0;;@\" hrs\"", "None")]
    [InlineData("_(* #,##0_);_(* (#,##0);_(* \"-\"_);_(@_)", "None")]
    public void Custom_formats_are_dates_by_their_letters_outside_quotes_and_brackets(string code, string expected)
    {
        Assert.Equal(Enum.Parse<XlsxDateKind>(expected), XlsxValueFormatter.ClassifyFormatCode(code));
    }

    [Theory]
    [InlineData(0u, "None")]
    [InlineData(2u, "None")]
    [InlineData(14u, "Date")]
    [InlineData(17u, "Date")]
    [InlineData(18u, "Time")]
    [InlineData(22u, "DateTime")]
    [InlineData(45u, "Time")]
    [InlineData(46u, "Elapsed")]
    [InlineData(47u, "Time")]
    [InlineData(31u, "Date")]
    [InlineData(32u, "Time")]
    [InlineData(49u, "None")]
    public void Built_in_formats_are_dates_by_id(uint id, string expected)
    {
        Assert.Equal(Enum.Parse<XlsxDateKind>(expected), XlsxValueFormatter.ClassifyBuiltIn(id));
    }

    [Theory]
    [InlineData("12.5", "12.5")]
    [InlineData("-0.25", "-0.25")]
    [InlineData("12345678901234567890", "12345678901234567890")]
    [InlineData("1.2345678901234567E+20", "123456789012345670000")]
    [InlineData("1E+15", "1000000000000000")]
    [InlineData("-4.5E+3", "-4500")]
    [InlineData("1E-3", "0.001")]
    [InlineData("1.5e-7", "0.00000015")]
    [InlineData("2.5E0", "2.5")]
    [InlineData("0.1", "0.1")]
    [InlineData("1.7976931348623157E+308", "1.7976931348623157E+308")]
    [InlineData("not a number", "not a number")]
    public void Numbers_keep_every_digit_without_exponents(string stored, string expected)
    {
        Assert.Equal(expected, XlsxValueFormatter.FormatNumber(stored));
    }

    [Theory]
    [InlineData(1, "Date", false, "1900-01-01")]
    [InlineData(59, "Date", false, "1900-02-28")]
    [InlineData(60, "Date", false, null)]
    [InlineData(61, "Date", false, "1900-03-01")]
    [InlineData(45306.99999999, "DateTime", false, "2024-01-16 00:00:00")]
    [InlineData(45306.25, "Date", false, "2024-01-15")]
    [InlineData(45306.25, "Time", false, "06:00:00")]
    [InlineData(2958465, "Date", false, "9999-12-31")]
    [InlineData(2958466, "Date", false, null)]
    [InlineData(-1, "Date", false, null)]
    [InlineData(0, "Date", true, "1904-01-01")]
    [InlineData(1.25, "Elapsed", false, "30:00:00")]
    [InlineData(-0.5, "Elapsed", false, "-12:00:00")]
    public void Date_serials_become_iso_text(double serial, string kind, bool date1904, string? expected)
    {
        Assert.Equal(expected, XlsxValueFormatter.FormatSerial(serial, Enum.Parse<XlsxDateKind>(kind), date1904));
    }

    [Theory]
    [InlineData("2024-01-15", "2024-01-15")]
    [InlineData("2024-01-15T08:30:00", "2024-01-15 08:30:00")]
    [InlineData("08:30:00", "08:30:00")]
    [InlineData("soon", "soon")]
    public void Iso_date_cells_are_written_in_the_same_forms(string stored, string expected)
    {
        Assert.Equal(expected, XlsxValueFormatter.FormatIsoDate(stored));
    }

    [Theory]
    [InlineData("A1", 0)]
    [InlineData("Z9", 25)]
    [InlineData("AA10", 26)]
    [InlineData("XFD1", 16_383)]
    [InlineData("b2", 1)]
    [InlineData("12", null)]
    [InlineData(null, null)]
    public void Cell_references_give_zero_based_columns(string? reference, int? expected)
    {
        Assert.Equal(expected, XlsxWorkbook.ColumnIndex(reference));
    }
}
