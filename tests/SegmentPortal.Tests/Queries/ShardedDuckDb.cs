using DuckDB.NET.Data;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Queries;

/// <summary>
/// The rows of <see cref="ShardedShopData"/> in an in-memory DuckDB, as the embedded warehouse would hold them after an
/// import (tables <c>customers</c> and <c>orders</c>): the reference the sharded PostgreSQL's answers are compared with.
/// One connection, used by one test at a time (the tests of a class run one after another).
/// </summary>
public sealed class ShardedDuckDb : IAsyncLifetime
{
    private readonly DuckDBConnection _connection = new("DataSource=:memory:");

    public async ValueTask InitializeAsync()
    {
        await _connection.OpenAsync();
        await WarehouseCommand.ExecuteAsync(_connection, """
            CREATE TABLE customers (customer_id INTEGER, name VARCHAR, region VARCHAR, is_active BOOLEAN, signup_date DATE);
            CREATE TABLE orders (order_id BIGINT, customer_id INTEGER, order_date DATE, amount DECIMAL(12, 2), category VARCHAR);
            """);
        var data = ShardedShopData.Generate();
        using (var appender = _connection.CreateAppender("customers"))
        {
            foreach (var c in data.Customers)
            {
                appender.CreateRow().AppendValue(c.CustomerId).AppendValue(c.Name).AppendValue(c.Region).AppendValue(c.IsActive).AppendValue(c.SignupDate).EndRow();
            }
        }
        using (var appender = _connection.CreateAppender("orders"))
        {
            foreach (var o in data.Orders)
            {
                appender.CreateRow().AppendValue(o.OrderId).AppendValue(o.CustomerId).AppendValue(o.OrderDate).AppendValue(o.Amount).AppendValue(o.Category).EndRow();
            }
        }
    }

    public Task<List<object?[]>> RunAsync(CompiledQuery query) =>
        WarehouseCommand.QueryAsync(_connection, query.Sql, query.Parameters, r =>
        {
            var row = new object?[r.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = r.IsDBNull(i) ? null : r.GetValue(i);
            }
            return row;
        });

    public async ValueTask DisposeAsync() => await _connection.DisposeAsync();
}
