using SegmentPortal.Core.Activation;

namespace SegmentPortal.Tests.Activation;

/// <summary>The SQL the table syncs run, for SQL Server (no server here) and PostgreSQL: identifiers quoted, values never in the text.</summary>
public sealed class SyncSqlTests
{
    private static readonly SyncColumn[] Columns = [new("e\"mail]", false), new("spend", true)];

    [Fact]
    public void Sql_server_creates_the_table_merges_from_a_temp_table_and_deletes_who_left()
    {
        var sql = new SqlServerSyncSql("crm", "Big ]Spenders", Columns);

        Assert.Equal("[crm].[Big ]]Spenders]", sql.Table);
        Assert.Equal("IF OBJECT_ID(@name, N'U') IS NULL CREATE TABLE [crm].[Big ]]Spenders] (customer_key nvarchar(450) NOT NULL PRIMARY KEY, " +
            "[e\"mail]]] nvarchar(max) NULL, [spend] float NULL, synced_at datetimeoffset NOT NULL)", sql.CreateTable());
        Assert.Equal("CREATE TABLE #portal_sync_in (customer_key nvarchar(450) NOT NULL PRIMARY KEY, c0 nvarchar(max) NULL, c1 float NULL)", sql.CreateStage());
        Assert.Equal("MERGE [crm].[Big ]]Spenders] WITH (HOLDLOCK) AS t USING #portal_sync_in AS s ON t.customer_key = s.customer_key " +
            "WHEN MATCHED THEN UPDATE SET [e\"mail]]] = s.c0, [spend] = s.c1, synced_at = @now " +
            "WHEN NOT MATCHED BY TARGET THEN INSERT (customer_key, [e\"mail]]], [spend], synced_at) VALUES (s.customer_key, s.c0, s.c1, @now);", sql.Merge(full: false));
        Assert.EndsWith(" WHEN NOT MATCHED BY SOURCE THEN DELETE;", sql.Merge(full: true));
        Assert.Equal("DELETE t FROM [crm].[Big ]]Spenders] AS t INNER JOIN #portal_sync_out AS o ON t.customer_key = o.customer_key", sql.DeleteLeft());
        Assert.Equal(["IF COL_LENGTH(@name, @column) IS NULL ALTER TABLE [crm].[Big ]]Spenders] ADD [e\"mail]]] nvarchar(max) NULL",
            "IF COL_LENGTH(@name, @column) IS NULL ALTER TABLE [crm].[Big ]]Spenders] ADD [spend] float NULL"], sql.AddMissingColumns().Select(a => a.Sql));
        Assert.Equal(["customer_key", "c0", "c1"], sql.StageTable().Columns.Cast<System.Data.DataColumn>().Select(c => c.ColumnName));
        Assert.Equal("[dbo].[t]", new SqlServerSyncSql(null, "t", []).Table);
    }

    [Fact]
    public void Postgres_upserts_from_a_copied_temp_table()
    {
        var sql = new PostgresSyncSql(null, "Big \"Spenders", Columns);

        Assert.Equal("\"public\".\"Big \"\"Spenders\"", sql.Table);
        Assert.Equal("CREATE TABLE IF NOT EXISTS \"public\".\"Big \"\"Spenders\" (customer_key text PRIMARY KEY, \"e\"\"mail]\" text, \"spend\" double precision, synced_at timestamptz NOT NULL)",
            sql.CreateTable());
        Assert.Equal("INSERT INTO \"public\".\"Big \"\"Spenders\" (customer_key, \"e\"\"mail]\", \"spend\", synced_at) SELECT customer_key, c0, c1, @now FROM portal_sync_in " +
            "ON CONFLICT (customer_key) DO UPDATE SET \"e\"\"mail]\" = EXCLUDED.\"e\"\"mail]\", \"spend\" = EXCLUDED.\"spend\", synced_at = EXCLUDED.synced_at", sql.Upsert());
        Assert.Equal("COPY \"public\".\"Big \"\"Spenders\" (customer_key, \"e\"\"mail]\", \"spend\", synced_at) FROM STDIN (FORMAT BINARY)", sql.CopyIntoTable());
    }

    [Fact]
    public void Batch_ids_depend_on_the_delivered_version_the_change_and_the_batch_only()
    {
        Assert.Equal("sync-7-v3-0123456789ab-b2", WebhookSyncDestination.BatchKey(7, 3, "0123456789abcdef", 2));
        Assert.NotEqual(WebhookSyncDestination.BatchKey(7, 3, "0123456789abcdef", 2), WebhookSyncDestination.BatchKey(7, 4, "0123456789abcdef", 2));
    }
}
