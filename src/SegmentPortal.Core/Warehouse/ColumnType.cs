namespace SegmentPortal.Core.Warehouse;

/// <summary>
/// How a column is stored in the warehouse (<see cref="DuckDbWarehouse.ToColumnType"/> reads it from DuckDB's type);
/// a dataset's columns, rules, recipes and queries use it.
/// </summary>
public enum ColumnType
{
    Text = 0,
    Integer = 1,
    Decimal = 2,
    Boolean = 3,
    Date = 4,
    Timestamp = 5,
}
