namespace SegmentPortal.Core.Import.Excel;

/// <summary>What <see cref="XlsxReader.ConvertToCsvAsync"/> wrote.</summary>
/// <param name="SheetName">The sheet that was converted.</param>
/// <param name="DataRows">Rows written below the heading row.</param>
/// <param name="Columns">Columns in every row: the heading row's width.</param>
/// <param name="IgnoredCells">
/// Values right of the last heading, which were left out (a CSV has one width); the UI should mention them.
/// </param>
internal sealed record XlsxConversionResult(string SheetName, long DataRows, int Columns, long IgnoredCells);
