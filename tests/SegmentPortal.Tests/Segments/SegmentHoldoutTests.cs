using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Tests.Import;
using SegmentPortal.Tests.Infrastructure;
using static SegmentPortal.Tests.Queries.ShopFixture;

namespace SegmentPortal.Tests.Segments;

/// <summary>3,000 customers (id, score = id mod 100), imported as a customer list, for segments with a holdout.</summary>
public sealed class HoldoutFixture : IAsyncLifetime
{
    public const int CustomerCount = 3000;

    public CoreHarness Harness { get; private set; } = null!;

    public Dataset Customers { get; private set; } = null!;

    public AppUser Owner { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Harness = await CoreHarness.CreateAsync();
        Owner = await Harness.SignInAsNewUserAsync("holdout-owner@example.com", Roles.Analyst);
        var csv = new StringBuilder("id,score\n");
        for (var id = 1; id <= CustomerCount; id++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{id},{id % 100}\n");
        }
        Customers = await Harness.ImportTextAsync("holdout-customers.csv", csv.ToString());
        Customers = await Harness.SetRolesAsync(Customers, new() { ["id"] = FieldRole.CustomerId });
    }

    public ValueTask DisposeAsync() => Harness.DisposeAsync();
}

public sealed class SegmentHoldoutTests(HoldoutFixture f) : IClassFixture<HoldoutFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static RuleTree Scores(int from, int to) => new() { Root = All(Field("score", RuleOperator.Between, $"{from}", $"{to}")) };

    private Task<int> CreateAsync(string name, RuleTree rule) =>
        f.Harness.WithAsync<SegmentService, int>(s => s.CreateAsync(new SegmentDraft($"{name} {Guid.NewGuid():N}", f.Customers.Id, rule), Ct));

    /// <summary>Every member as the segment's rule reads now, with its holdout mark from the service.</summary>
    private async Task<Dictionary<string, bool>> MarkedMembersAsync(int segmentId)
    {
        var members = await f.Harness.WithAsync<SegmentService, QueryResult>(s => s.AllMembersAsync(segmentId, Ct));
        var page = new MemberPage(members.Columns, members.Rows, members.Rows.Count);
        var marks = await f.Harness.WithAsync<SegmentHoldoutService, IReadOnlyList<bool>?>(s => s.MarksAsync(segmentId, page, Ct));
        Assert.NotNull(marks);
        var key = members.Columns.ToList().IndexOf("id");
        return members.Rows.Select((r, i) => (Key: SegmentHoldout.KeyText(r[key]), Held: marks[i])).ToDictionary(m => m.Key, m => m.Held);
    }

    private async Task<Segment> StoredAsync(int id)
    {
        await using var db = await f.Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
        return await db.Segments.AsNoTracking().SingleAsync(s => s.Id == id, Ct);
    }

    [Theory]
    [InlineData(0.10)]
    [InlineData(0.25)]
    public void On_100000_customers_the_holdout_is_within_one_point_of_its_share(double share)
    {
        var segment = new Segment { Name = "Split", RuleJson = "{}", HoldoutShare = share, HoldoutSalt = SegmentHoldout.NewSalt() };
        var keys = Enumerable.Range(1, 100_000).Select(i => $"C{i:D6}").ToList();

        var held = keys.Count(k => SegmentHoldout.IsHeldOut(segment, k));

        Assert.InRange(held / 100_000.0, share - 0.01, share + 0.01);
        Assert.Equal(100_000 - held, SegmentHoldout.Treated(segment, keys).Count());
    }

    [Fact]
    public void The_hash_is_SHA256_of_salt_and_key_read_as_a_fraction()
    {
        // /usr/bin/python3: struct.unpack(">I", hashlib.sha256(b"matrix-0:1").digest()[:4])[0] / 2**32
        var expected = Convert.ToUInt32(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData("matrix-0:1"u8))[..8], 16) / 4294967296.0;

        Assert.Equal(expected, SegmentHoldout.Position("matrix-0", "1"));
        Assert.True(SegmentHoldout.IsHeldOut(new Segment { Name = "x", RuleJson = "{}", HoldoutShare = 0.5, HoldoutSalt = "matrix-0" }, "1"));
        Assert.False(SegmentHoldout.IsHeldOut(new Segment { Name = "x", RuleJson = "{}", HoldoutShare = 0.5, HoldoutSalt = "matrix-0" }, "3"));
        Assert.False(SegmentHoldout.IsHeldOut(new Segment { Name = "x", RuleJson = "{}", HoldoutShare = null, HoldoutSalt = "matrix-0" }, "1"));
    }

    [Fact]
    public async Task Members_who_stay_across_refreshes_keep_their_holdout_mark_and_the_counts_follow_the_stored_members()
    {
        var id = await CreateAsync("Stable", Scores(0, 59));
        var set = await f.Harness.WithAsync<SegmentHoldoutService, HoldoutSummary>(s => s.SetShareAsync(id, 0.2, Ct));
        var before = await MarkedMembersAsync(id);
        Assert.Equal(0.2, set.Share);
        Assert.Equal(1800, set.Members);
        Assert.Equal(before.Count(m => m.Value), set.HeldOut);
        Assert.InRange(set.HeldOutShare!.Value, 0.17, 0.23);

        // Some leave (scores 0–19), some enter (60–79), the rest stay.
        await f.Harness.WithAsync<SegmentService>(s => s.UpdateAsync(id, new SegmentDraft("Stable " + id, f.Customers.Id, Scores(20, 79)), Ct));
        await f.Harness.WithAsync<SegmentService, SegmentSnapshot>(s => s.RefreshAsync(id, Ct));
        var after = await MarkedMembersAsync(id);

        var stayed = before.Keys.Intersect(after.Keys).ToList();
        Assert.Equal(1200, stayed.Count);
        Assert.All(stayed, k => Assert.Equal(before[k], after[k]));
        var summary = await f.Harness.WithAsync<SegmentHoldoutService, HoldoutSummary>(s => s.SummaryAsync(id, Ct));
        Assert.Equal(1800, summary.Members);
        Assert.Equal(after.Count(m => m.Value), summary.HeldOut);
        Assert.Equal(summary.Members - summary.HeldOut, summary.Treated);
    }

    [Fact]
    public async Task The_salt_is_made_once_and_kept_so_a_larger_share_only_adds_to_the_holdout()
    {
        var id = await CreateAsync("Salted", Scores(0, 99));
        Assert.Null((await StoredAsync(id)).HoldoutSalt);

        await f.Harness.WithAsync<SegmentHoldoutService, HoldoutSummary>(s => s.SetShareAsync(id, 0.1, Ct));
        var salt = (await StoredAsync(id)).HoldoutSalt;
        var ten = await MarkedMembersAsync(id);
        await f.Harness.WithAsync<SegmentHoldoutService, HoldoutSummary>(s => s.SetShareAsync(id, 0.3, Ct));
        var thirty = await MarkedMembersAsync(id);
        var off = await f.Harness.WithAsync<SegmentHoldoutService, HoldoutSummary>(s => s.SetShareAsync(id, null, Ct));
        await f.Harness.WithAsync<SegmentHoldoutService, HoldoutSummary>(s => s.SetShareAsync(id, 0.1, Ct));

        Assert.NotNull(salt);
        Assert.Equal(salt, (await StoredAsync(id)).HoldoutSalt);
        Assert.All(ten.Where(m => m.Value), m => Assert.True(thirty[m.Key], $"{m.Key} left the holdout when it grew"));
        Assert.True(thirty.Count(m => m.Value) > ten.Count(m => m.Value));
        Assert.Null(off.Share);
        static List<string> Held(Dictionary<string, bool> marks) => marks.Where(m => m.Value).Select(m => m.Key).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(Held(ten), Held(await MarkedMembersAsync(id)));
    }

    [Theory]
    [InlineData(0.6)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public async Task A_share_outside_0_to_50_percent_is_refused(double share)
    {
        var id = await CreateAsync("Bad share", Scores(0, 9));

        var error = await Assert.ThrowsAsync<PortalException>(() => f.Harness.WithAsync<SegmentHoldoutService, HoldoutSummary>(s => s.SetShareAsync(id, share, Ct)));

        Assert.Equal("A holdout is between 0% and 50% of the segment's members.", error.Message);
    }

    [Fact]
    public async Task Only_editors_set_the_holdout_and_a_segment_without_one_has_no_marks()
    {
        var id = await CreateAsync("Guarded", Scores(0, 9));
        var page = new MemberPage(["id"], [[1L]], 1);
        Assert.Null(await f.Harness.WithAsync<SegmentHoldoutService, IReadOnlyList<bool>?>(s => s.MarksAsync(id, page, Ct)));

        var owner = f.Harness.CurrentUser.Principal;
        var viewer = await f.Harness.CreateUserAsync($"viewer-{Guid.NewGuid():N}@example.com", "Correct-horse-9", Roles.Viewer);
        try
        {
            f.Harness.CurrentUser.Principal = CoreHarness.Principal(viewer.Id, viewer.Email!, Roles.Viewer);
            await Assert.ThrowsAsync<PermissionDeniedException>(() => f.Harness.WithAsync<SegmentHoldoutService, HoldoutSummary>(s => s.SetShareAsync(id, 0.1, Ct)));
        }
        finally
        {
            f.Harness.CurrentUser.Principal = owner;
        }
        Assert.Null((await StoredAsync(id)).HoldoutShare);
    }
}
