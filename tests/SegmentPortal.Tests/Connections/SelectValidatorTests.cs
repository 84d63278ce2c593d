using SegmentPortal.Core.Connections;

namespace SegmentPortal.Tests.Connections;

public sealed class SelectValidatorTests
{
    private const ConnectionKind Pg = ConnectionKind.PostgreSql;
    private const ConnectionKind Mssql = ConnectionKind.SqlServer;
    private const ConnectionKind Lite = ConnectionKind.Sqlite;

    [Theory]
    [InlineData("SELECT 1")]
    [InlineData("select * from customers")]
    [InlineData("  \n\t SELECT id, name FROM public.customers WHERE city = 'Zürich' ORDER BY id")]
    [InlineData("WITH big AS (SELECT * FROM orders WHERE amount > 100) SELECT customer_id, count(*) FROM big GROUP BY 1")]
    [InlineData("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 5) SELECT x FROM n")]
    [InlineData("-- leading comment\nSELECT 1")]
    [InlineData("/* block */ SELECT 1 /* trailing */")]
    [InlineData("SELECT 'DROP TABLE x; DELETE FROM y' AS harmless")]
    [InlineData("SELECT 'it''s; fine' AS quote")]
    [InlineData("SELECT \"delete\", \"update\" FROM \"insert\"")]
    [InlineData("SELECT $$ DROP TABLE t; $$ AS dollar")]
    [InlineData("SELECT $tag$ it's ; DELETE $tag$ AS tagged")]
    [InlineData("SELECT E'a\\'; DROP TABLE t; --' AS escaped")]
    [InlineData("SELECT updated_at, created_into, deleted, intoxicated FROM t")]
    [InlineData("SELECT pg_catalog.count(*) FROM pg_catalog.pg_tables")]
    [InlineData("SELECT amount::numeric(12, 2) FROM orders WHERE id = ANY(ARRAY[1, 2])")]
    [InlineData("SELECT 1 FETCH FIRST 5 ROWS ONLY")]
    [InlineData("SELECT replace(name, 'a', 'b'), lower(city) FROM customers")]
    public void Reading_queries_are_accepted(string sql) =>
        Assert.Equal(sql.TrimEnd(), SelectValidator.Validate(sql, Pg));

    [Theory]
    [InlineData("SELECT 1;", "SELECT 1")]
    [InlineData("SELECT 1 ;  -- done\n", "SELECT 1")]
    [InlineData("SELECT 1; /* done */", "SELECT 1")]
    [InlineData("SELECT 1 -- comment without newline", "SELECT 1 -- comment without newline")]
    public void One_trailing_semicolon_is_dropped(string sql, string expected) =>
        Assert.Equal(expected, SelectValidator.Validate(sql, Pg));

    [Theory]
    [InlineData("DELETE FROM orders")]
    [InlineData("UPDATE customers SET name = 'x'")]
    [InlineData("INSERT INTO t VALUES (1)")]
    [InlineData("DROP TABLE customers")]
    [InlineData("TRUNCATE orders")]
    [InlineData("CREATE TABLE x (a int)")]
    [InlineData("COPY customers TO '/tmp/x'")]
    [InlineData("CALL do_something()")]
    [InlineData("EXPLAIN ANALYZE DELETE FROM orders")]
    [InlineData("VALUES (1)")]
    [InlineData("(SELECT 1)")]
    [InlineData("TABLE customers")]
    [InlineData("SHOW ALL")]
    [InlineData("/* SELECT */ DELETE FROM orders")]
    [InlineData("\"SELECT\" 1")]
    public void Anything_that_does_not_start_with_select_or_with_is_refused(string sql) =>
        Assert.Throws<QueryRejectedException>(() => SelectValidator.Validate(sql, Pg));

    [Theory]
    [InlineData("SELECT 1; DROP TABLE customers")]
    [InlineData("SELECT 1; SELECT 2")]
    [InlineData("SELECT 1;;")]
    [InlineData("SELECT * FROM customers; -- x\nDELETE FROM orders")]
    public void Only_one_statement_is_allowed(string sql)
    {
        var error = Assert.Throws<QueryRejectedException>(() => SelectValidator.Validate(sql, Pg));
        Assert.Contains("single statement", error.Message);
    }

    [Theory]
    [InlineData("WITH gone AS (DELETE FROM orders RETURNING *) SELECT * FROM gone", "DELETE")]
    [InlineData("WITH x AS (UPDATE customers SET name = '' RETURNING id) SELECT * FROM x", "UPDATE")]
    [InlineData("WITH x AS (INSERT INTO t VALUES (1) RETURNING *) SELECT 1", "INSERT")]
    [InlineData("SELECT * INTO new_table FROM customers", "INTO")]
    [InlineData("SELECT * FROM customers FOR UPDATE", "UPDATE")]
    [InlineData("SELECT 1 /* a */ DROP TABLE x", "DROP")]
    [InlineData("SELECT * FROM t WHERE id IN (SELECT id FROM u) \n MERGE INTO t USING u ON 1=1 WHEN MATCHED THEN DELETE", "MERGE")]
    [InlineData("select 1 grant all on t to public", "GRANT")]
    [InlineData("SELECT 1 COPY t FROM PROGRAM 'rm -rf /'", "COPY")]
    [InlineData("SELECT 1 EXEC xp_cmdshell 'dir'", "EXEC")]
    [InlineData("SELECT 1\u00A0DROP TABLE x", "DROP")]
    [InlineData("SELECT 1DROP TABLE x", "DROP")]
    [InlineData("SELECT 1 SET ROWCOUNT 0", "SET")]
    [InlineData("SELECT 1 ALTER TABLE t ADD c int", "ALTER")]
    public void Writing_words_outside_literals_are_refused(string sql, string word)
    {
        var error = Assert.Throws<QueryRejectedException>(() => SelectValidator.Validate(sql, Pg));
        Assert.Contains(word, error.Message);
    }

    [Theory]
    [InlineData("SELECT pg_terminate_backend(123)")]
    [InlineData("SELECT pg_catalog.pg_terminate_backend (pid) FROM pg_stat_activity")]
    [InlineData("SELECT \"pg_terminate_backend\"(1)")]
    [InlineData("SELECT PG_SLEEP(10)")]
    [InlineData("SELECT pg_sleep /* hidden */ (10)")]
    [InlineData("SELECT pg_read_file('/etc/passwd')")]
    [InlineData("SELECT * FROM dblink('host=x', 'DELETE FROM t') AS t(a int)")]
    [InlineData("SELECT lo_export(1, '/tmp/x')")]
    [InlineData("SELECT set_config('transaction_read_only', 'off', true)")]
    [InlineData("SELECT query_to_xml('DELETE FROM orders', true, false, '')")]
    [InlineData("SELECT nextval('orders_id_seq')")]
    [InlineData("SELECT 1pg_sleep(5)")]
    [InlineData("SELECT load_extension('evil')")]
    public void Server_and_side_effect_functions_are_refused(string sql)
    {
        var error = Assert.Throws<QueryRejectedException>(() => SelectValidator.Validate(sql, Pg));
        Assert.Contains("function", error.Message);
    }

    [Theory]
    [InlineData("SELECT 'unterminated")]
    [InlineData("SELECT \"unterminated")]
    [InlineData("SELECT 1 /* never closed")]
    [InlineData("SELECT /* outer /* inner */ DROP TABLE t */ 1")]
    [InlineData("SELECT $$ never closed")]
    [InlineData("SELECT (1")]
    [InlineData("SELECT 1)")]
    [InlineData("SELECT U&\"\\0070g_sleep\"(1)")]
    [InlineData("SELECT E'\\'")]
    public void Anything_the_lexer_is_unsure_of_is_refused(string sql) =>
        Assert.Throws<QueryRejectedException>(() => SelectValidator.Validate(sql, Pg));

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("-- just a comment")]
    [InlineData(null)]
    public void Empty_queries_are_refused(string? sql) =>
        Assert.Throws<QueryRejectedException>(() => SelectValidator.Validate(sql, Pg));

    [Fact]
    public void Very_long_queries_are_refused() =>
        Assert.Throws<QueryRejectedException>(() => SelectValidator.Validate("SELECT " + new string('1', SelectValidator.MaxLength), Pg));

    [Fact]
    public void Sql_server_brackets_and_doubled_brackets_are_names()
    {
        Assert.Equal("SELECT [delete], [a]]b; drop] FROM [dbo].[orders]",
            SelectValidator.Validate("SELECT [delete], [a]]b; drop] FROM [dbo].[orders]", Mssql));
        Assert.Equal("SELECT TOP (10) N'DROP; x' AS s FROM t", SelectValidator.Validate("SELECT TOP (10) N'DROP; x' AS s FROM t", Mssql));
    }

    [Theory]
    [InlineData("SELECT 1 SHUTDOWN", "SHUTDOWN")]
    [InlineData("SELECT 1 WAITFOR DELAY '00:01'", "WAITFOR")]
    [InlineData("SELECT * FROM OPENROWSET('SQLNCLI', 'x', 'SELECT 1')", "OPENROWSET")]
    [InlineData("SELECT 1 BEGIN TRAN", "BEGIN")]
    [InlineData("SELECT 1 COMMIT", "COMMIT")]
    [InlineData("SELECT 1 KILL 52", "KILL")]
    [InlineData("SELECT 1 DECLARE @x int", "DECLARE")]
    [InlineData("SELECT 1 BACKUP DATABASE x TO DISK = 'c:\\x'", "BACKUP")]
    [InlineData("SELECT $1DROP TABLE x", "DROP")]
    public void Sql_server_batches_without_semicolons_are_refused(string sql, string word)
    {
        var error = Assert.Throws<QueryRejectedException>(() => SelectValidator.Validate(sql, Mssql));
        Assert.Contains(word, error.Message);
    }

    [Fact]
    public void Sql_server_extended_procedures_are_refused() =>
        Assert.Throws<QueryRejectedException>(() => SelectValidator.Validate("SELECT * FROM xp_dirtree('c:\\')", Mssql));

    [Fact]
    public void Brackets_are_array_subscripts_in_postgres_not_names() =>
        Assert.Throws<QueryRejectedException>(() => SelectValidator.Validate("SELECT a[1] FROM t; DROP TABLE t", Pg));

    [Fact]
    public void Dollar_quotes_are_postgres_only()
    {
        // In SQLite and SQL Server "$$" is not a string: what follows is code, and the DROP is seen.
        Assert.Throws<QueryRejectedException>(() => SelectValidator.Validate("SELECT $$ DROP TABLE t $$", Lite));
        Assert.Throws<QueryRejectedException>(() => SelectValidator.Validate("SELECT $$ DROP TABLE t $$", Mssql));
    }

    [Fact]
    public void Backslashes_do_not_escape_quotes_outside_postgres_escape_strings()
    {
        // Standard SQL: 'a\' is a whole string, so the DROP after it is code.
        Assert.Throws<QueryRejectedException>(() => SelectValidator.Validate("SELECT 'a\\' ; DROP TABLE t; --'", Pg));
        Assert.Throws<QueryRejectedException>(() => SelectValidator.Validate("SELECT 'a\\' ; DROP TABLE t; --'", Mssql));
        Assert.Throws<QueryRejectedException>(() => SelectValidator.Validate("SELECT 'a\\' ; DROP TABLE t; --'", Lite));
    }

    [Theory]
    [InlineData("SELECT €E'\\' ; DROP TABLE t; --'")]
    [InlineData("SELECT \u00A0E'\\' ; DROP TABLE t; --'")]
    public void Postgres_names_run_through_non_ascii_characters_so_e_strings_start_where_postgres_starts_them(string sql)
    {
        // PostgreSQL reads "€E" as one name followed by a plain string '\', so the DROP is code.
        var error = Assert.Throws<QueryRejectedException>(() => SelectValidator.Validate(sql, Pg));
        Assert.Contains("single statement", error.Message);
    }

    [Theory]
    [InlineData("SELECT `delete` FROM `insert`")]
    [InlineData("SELECT [update] FROM t")]
    public void Sqlite_quoted_names_are_names(string sql) =>
        Assert.Equal(sql, SelectValidator.Validate(sql, Lite));

    [Theory]
    [InlineData("SELECT 1 ATTACH DATABASE 'x' AS y")]
    [InlineData("SELECT 1 PRAGMA writable_schema = 1")]
    [InlineData("SELECT [a]] DROP TABLE t")]
    public void Sqlite_statements_are_refused(string sql) =>
        Assert.Throws<QueryRejectedException>(() => SelectValidator.Validate(sql, Lite));
}
