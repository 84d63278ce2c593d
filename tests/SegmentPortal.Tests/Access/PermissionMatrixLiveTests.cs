using System.Globalization;
using Npgsql;
using SegmentPortal.Core;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Tests.Infrastructure;
using static SegmentPortal.Tests.Rules.RuleTrees;

namespace SegmentPortal.Tests.Access;

/// <summary>
/// The permission matrix's rows for a live dataset (its rows stay in PostgreSQL; the restriction is compiled into the
/// source's SQL): preview, profile and live count, for the owner, a row-ruled and a column-ruled user, a user no rule
/// covers and a user it is not shared with. The expected figures are hand-written SQL on the same server.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PermissionMatrixLiveTests(PostgresServer server) : IAsyncLifetime
{
    public enum LiveUser
    {
        Owner,
        RowRuled,
        ColumnRuled,
        NoRule,
        NotShared,
    }

    private CoreHarness? _harness;
    private readonly Dictionary<LiveUser, AppUser> _users = [];
    private int _datasetId;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string, LiveUser> Cells()
    {
        var data = new TheoryData<string, LiveUser>();
        foreach (var surface in new[] { "Live dataset preview", "Live column profile", "Live segment count" })
        {
            foreach (var user in Enum.GetValues<LiveUser>())
            {
                data.Add(surface, user);
            }
        }
        return data;
    }

    public async ValueTask InitializeAsync()
    {
        if (server.SkipReason is not null)
        {
            return;
        }
        _harness = await CoreHarness.CreateAsync();
        _users[LiveUser.RowRuled] = await _harness.CreateUserAsync("row@example.com", "Correct-horse-9", Roles.Viewer);
        _users[LiveUser.ColumnRuled] = await _harness.CreateUserAsync("column@example.com", "Correct-horse-9", Roles.Analyst);
        _users[LiveUser.NoRule] = await _harness.CreateUserAsync("norule@example.com", "Correct-horse-9", Roles.Viewer);
        _users[LiveUser.NotShared] = await _harness.CreateUserAsync("outsider@example.com", "Correct-horse-9", Roles.Viewer);
        _users[LiveUser.Owner] = await _harness.SignInAsNewUserAsync("owner@example.com", Roles.Admin);
        var connectionId = await _harness.WithAsync<ConnectionService, int>(s => s.CreateAsync(new ConnectionInput
        {
            Name = "Shop",
            Kind = ConnectionKind.PostgreSql,
            Host = "127.0.0.1",
            Port = server.Port,
            Database = PostgresServer.Database,
            Username = PostgresServer.ReaderUser,
            Password = PostgresServer.ReaderPassword,
            Settings = new ConnectionSettings { SslMode = PostgresSslMode.Disable },
        }, Ct));
        _datasetId = await _harness.WithAsync<LiveDatasetService, int>(s => s.CreateAsync(connectionId,
            new LiveDatasetDraft(ConnectionSource.ForTable("public", "customers"), "Live customers", 0, DatasetKind.Customers,
                new Dictionary<string, FieldRole> { ["id"] = FieldRole.CustomerId, ["city"] = FieldRole.Dimension }), Ct));
        await _harness.WithAsync<DatasetSharing>(s => s.SetAsync(_datasetId, [],
            [_users[LiveUser.RowRuled].Id, _users[LiveUser.ColumnRuled].Id, _users[LiveUser.NoRule].Id], Ct));
        await _harness.WithAsync<DataPermissionService, int>(s => s.SaveRowRuleAsync(_datasetId, null, null, _users[LiveUser.RowRuled].Id,
            All(Field("city", RuleOperator.Equals, "Kraków")), Ct));
        await _harness.WithAsync<DataPermissionService, int>(s => s.SaveRowRuleAsync(_datasetId, null, null, _users[LiveUser.ColumnRuled].Id, All(), Ct));
        await _harness.WithAsync<DataPermissionService>(s => s.SetColumnTreatmentAsync(_datasetId, "email", Roles.Analyst, ColumnTreatment.Masked, Ct));
    }

    public async ValueTask DisposeAsync()
    {
        if (_harness is not null)
        {
            await _harness.DisposeAsync();
        }
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public async Task Cell(string surface, LiveUser user)
    {
        server.Require();
        var harness = _harness!;
        var account = _users[user];
        harness.CurrentUser.Principal = CoreHarness.Principal(account.Id, account.Email!,
            user switch { LiveUser.Owner => Roles.Admin, LiveUser.ColumnRuled => Roles.Analyst, _ => Roles.Viewer });
        var visible = user switch
        {
            LiveUser.Owner or LiveUser.ColumnRuled => "true",
            LiveUser.RowRuled => "city = 'Kraków'",
            _ => "false",
        };

        if (user == LiveUser.NotShared)
        {
            await Assert.ThrowsAnyAsync<PortalException>(() => Run(surface));
            return;
        }
        switch (surface)
        {
            case "Live dataset preview":
            {
                var preview = await harness.WithAsync<DatasetProfiler, DatasetPreview>(p => p.PreviewAsync(_datasetId, Ct));
                Assert.Equal(await ScalarAsync($"SELECT count(*) FROM customers WHERE {visible}"), preview.TotalRows);
                var city = Index(preview.Columns, "city");
                var email = Index(preview.Columns, "email");
                Assert.All(preview.Rows, r => Assert.True(user != LiveUser.RowRuled || Equals(r[city], "Kraków")));
                var emails = preview.Rows.Select(r => r[email] as string).OfType<string>().ToList();
                Assert.All(emails, e => Assert.Equal(user == LiveUser.ColumnRuled, e.Contains("***", StringComparison.Ordinal)));
                break;
            }
            case "Live column profile":
            {
                var profiles = await harness.WithAsync<DatasetProfiler, IReadOnlyList<ColumnProfile>>(p => p.ProfileAsync(_datasetId, Ct));
                var id = profiles.Single(p => p.Name == "id");
                Assert.Equal(await ScalarAsync($"SELECT count(*) FROM customers WHERE {visible}"), id.Rows);
                break;
            }
            case "Live segment count":
            {
                var count = await harness.WithAsync<SegmentService, LiveCount>(s => s.CountAsync(_datasetId, All(Field("is_active", RuleOperator.IsTrue)), Ct));
                Assert.Equal(await ScalarAsync($"SELECT count(*) FROM customers WHERE is_active AND {visible}"), count.Matching);
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(surface), surface, null);
        }
    }

    private Task Run(string surface) => surface switch
    {
        "Live dataset preview" => _harness!.WithAsync<DatasetProfiler, DatasetPreview>(p => p.PreviewAsync(_datasetId, Ct)),
        "Live column profile" => _harness!.WithAsync<DatasetProfiler, IReadOnlyList<ColumnProfile>>(p => p.ProfileAsync(_datasetId, Ct)),
        _ => _harness!.WithAsync<SegmentService, LiveCount>(s => s.CountAsync(_datasetId, All(Field("is_active", RuleOperator.IsTrue)), Ct)),
    };

    private static int Index(IReadOnlyList<string> columns, string name)
    {
        for (var i = 0; i < columns.Count; i++)
        {
            if (columns[i] == name)
            {
                return i;
            }
        }
        throw new ArgumentException($"No column {name}.", nameof(name));
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(server.AdminConnectionString());
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(Ct), CultureInfo.InvariantCulture);
    }
}
