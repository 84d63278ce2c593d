using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Segments;
using static SegmentPortal.Tests.Web.ApiPermissionMatrixTests;

namespace SegmentPortal.Tests.Web;

/// <summary>
/// The REST API's data endpoints (<c>/api/v1</c> datasets, segments, dashboards) over HTTP against the real host with
/// SQLite and DuckDB: each endpoint's answer, cursor paging, problem details, and the permission cases that matter most
/// (the full grid is <see cref="ApiPermissionMatrixTests"/>).
/// </summary>
public sealed class ApiEndpointsTests(ApiFixture f) : IClassFixture<ApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ApiSession OwnerApi => f.Session(ApiAudience.Owner);

    private ApiSession ViewerApi => f.Session(ApiAudience.Viewer);

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    private static JsonElement Rule(string root) => Json($$"""{"version":1,"root":{{root}}}""");

    private static readonly JsonElement EveryCustomer = Rule("""{"kind":"group","combinator":"and","children":[]}""");

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await ApiSession.ReadAsync(response, status);
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        return problem;
    }

    /// <summary>Every item of a list, following <c>next</c> from page to page.</summary>
    private static async Task<List<JsonElement>> WalkAsync(ApiSession api, string path, string itemsProperty = "items")
    {
        var all = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var separator = path.Contains('?', StringComparison.Ordinal) ? '&' : '?';
            var page = await api.GetJsonAsync(cursor is null ? path : $"{path}{separator}cursor={Uri.EscapeDataString(cursor)}");
            all.AddRange(page.GetProperty(itemsProperty).EnumerateArray());
            cursor = page.GetProperty("next").GetString();
        }
        while (cursor is not null);
        return all;
    }

    private async Task<int> CreateSegmentAsync(ApiSession api, string name, int datasetId, JsonElement rule)
    {
        var created = await ApiSession.ReadAsync(await api.PostAsync("segments", new { name, datasetId, rule }), HttpStatusCode.Created);
        return created.GetProperty("id").GetInt32();
    }

    [Fact]
    public async Task Without_a_session_the_api_answers_401()
    {
        var anonymous = ApiSession.Anonymous(f.Factory);

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("datasets")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"segments/{f.Segment}/members")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("segments", new { name = "x", datasetId = f.Customers.Id, rule = EveryCustomer })).StatusCode);
    }

    [Fact]
    public async Task Datasets_page_by_cursor_and_a_cursor_of_another_list_is_refused()
    {
        var all = (await OwnerApi.GetJsonAsync("datasets?limit=100")).GetProperty("items").EnumerateArray().Select(d => d.GetProperty("id").GetInt32()).ToList();
        var walked = (await WalkAsync(OwnerApi, "datasets?limit=1")).Select(d => d.GetProperty("id").GetInt32()).ToList();
        var segmentsPage = await OwnerApi.GetJsonAsync("segments?limit=1");

        Assert.Contains(f.Customers.Id, all);
        Assert.Contains(f.Big.Id, all);
        Assert.Equal(all, walked);
        Assert.Equal(walked.Order(), walked);
        var foreign = await ProblemAsync(await OwnerApi.GetAsync($"datasets?cursor={segmentsPage.GetProperty("next").GetString()}"), HttpStatusCode.BadRequest);
        Assert.Contains("cursor", foreign.GetProperty("detail").GetString());
        await ProblemAsync(await OwnerApi.GetAsync("datasets?cursor=not-a-cursor!"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_schema_lists_roles_and_types_leaves_out_hidden_columns_and_marks_masked_ones()
    {
        var owner = await OwnerApi.GetJsonAsync($"datasets/{f.Customers.Id}/schema");
        var viewer = await ViewerApi.GetJsonAsync($"datasets/{f.Customers.Id}/schema");
        static Dictionary<string, JsonElement> Columns(JsonElement schema) =>
            schema.GetProperty("columns").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!);

        var ownerColumns = Columns(owner);
        Assert.Equal("CustomerId", ownerColumns["id"].GetProperty("role").GetString());
        Assert.Equal("Integer", ownerColumns["id"].GetProperty("type").GetString());
        Assert.Equal("Dimension", ownerColumns["region"].GetProperty("role").GetString());
        Assert.False(ownerColumns["email"].GetProperty("masked").GetBoolean());
        Assert.Equal(5, owner.GetProperty("rows").GetInt64());
        var viewerColumns = Columns(viewer);
        Assert.DoesNotContain("phone", viewerColumns.Keys);
        Assert.True(viewerColumns["email"].GetProperty("masked").GetBoolean());
        Assert.Equal("Masked", viewerColumns["email"].GetProperty("treatment").GetString());
        Assert.Equal("Text", viewerColumns["credit_limit"].GetProperty("type").GetString());
        Assert.Equal(2, viewer.GetProperty("rows").GetInt64());
    }

    [Fact]
    public async Task A_query_groups_measures_filters_and_sorts_over_the_callers_rows_only()
    {
        var query = new
        {
            filter = Rule("""{"kind":"group","combinator":"and","children":[{"kind":"condition","field":"city","operator":"isNotEmpty"}]}"""),
            groupBy = new[] { new { column = "region" } },
            measures = new object[] { new { kind = "customers", alias = "customers" }, new { kind = "sum", alias = "credit", column = "credit_limit" } },
            sort = new[] { new { name = "customers", descending = true }, new { name = "region", descending = false } },
        };
        var owner = await ApiSession.ReadAsync(await OwnerApi.PostAsync($"datasets/{f.Customers.Id}/query", query));
        var southForViewer = await ApiSession.ReadAsync(await ViewerApi.PostAsync($"datasets/{f.Customers.Id}/query", new
        {
            filter = Rule("""{"kind":"group","combinator":"and","children":[{"kind":"condition","field":"region","operator":"equals","value":"South"}]}"""),
            columns = new[] { "id", "name" },
        }));
        var viewer = await ApiSession.ReadAsync(await ViewerApi.PostAsync($"datasets/{f.Customers.Id}/query", query with { measures = [new { kind = "customers", alias = "customers" }] }));

        Assert.Equal(["region", "customers", "credit"], owner.GetProperty("columns").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(["North|2|4000", "South|2|7000", "East|1|4000"], Rows(owner));
        Assert.Equal(["North|2"], Rows(viewer));
        Assert.Empty(Rows(southForViewer));
        Assert.Equal(JsonValueKind.Null, owner.GetProperty("next").ValueKind);
    }

    [Fact]
    public async Task A_query_naming_a_hidden_column_or_with_a_broken_rule_is_refused_with_problem_details()
    {
        var hidden = await ProblemAsync(await ViewerApi.PostAsync($"datasets/{f.Customers.Id}/query", new { columns = new[] { "name", "phone" } }), HttpStatusCode.BadRequest);
        var hiddenInRule = await ProblemAsync(await ViewerApi.PostAsync($"datasets/{f.Customers.Id}/query", new
        {
            filter = Rule("""{"kind":"group","children":[{"kind":"condition","field":"phone","operator":"isNotEmpty"}]}"""),
        }), HttpStatusCode.BadRequest);
        var broken = await ProblemAsync(await OwnerApi.PostAsync($"datasets/{f.Customers.Id}/query", new { filter = Rule("""{"kind":"group","children":[{"field":"city"}]}""") }),
            HttpStatusCode.BadRequest);
        var notJson = await OwnerApi.PostAsync($"datasets/{f.Customers.Id}/query", "{ not json");

        Assert.Contains("do not have access to the column \"phone\"", hidden.GetProperty("detail").GetString());
        Assert.Contains("do not have access to the column \"phone\"", hiddenInRule.GetProperty("detail").GetString());
        Assert.StartsWith("filter:", broken.GetProperty("detail").GetString());
        Assert.Contains("kind", broken.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
    }

    [Fact]
    public async Task Query_pages_walk_every_row_once()
    {
        var body = new { columns = new[] { "customer" }, sort = new[] { new { name = "customer" } }, limit = 1000 };
        var keys = new List<long>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await ApiSession.ReadAsync(await OwnerApi.PostAsync($"datasets/{f.Big.Id}/query", new { body.columns, body.sort, body.limit, cursor }));
            keys.AddRange(page.GetProperty("rows").EnumerateArray().Select(r => r[0].GetInt64()));
            cursor = page.GetProperty("next").GetString();
            pages++;
        }
        while (cursor is not null);
        var otherQuery = await OwnerApi.PostAsync($"datasets/{f.Big.Id}/query", new { columns = new[] { "name" }, limit = 1000,
            cursor = (await ApiSession.ReadAsync(await OwnerApi.PostAsync($"datasets/{f.Big.Id}/query", body))).GetProperty("next").GetString() });

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(1, ApiFixture.BigCustomers).Select(i => (long)i), keys);
        await ProblemAsync(otherQuery, HttpStatusCode.BadRequest);

        // A new version of the dataset (the same rows) between two pages: the cursor given before it is refused.
        var next = (await ApiSession.ReadAsync(await OwnerApi.PostAsync($"datasets/{f.Big.Id}/query", body))).GetProperty("next").GetString();
        await f.ImportAsync("big.csv", ApiFixture.BigCsv(ApiFixture.BigCustomers), f.Big.Id);
        var stale = await ProblemAsync(await OwnerApi.PostAsync($"datasets/{f.Big.Id}/query", new { body.columns, body.sort, body.limit, cursor = next }), HttpStatusCode.BadRequest);
        Assert.Equal("The cursor does not belong to this request, or the data changed since it was given. Start again without a cursor.", stale.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Members_pages_walk_every_member_exactly_once_in_key_order_with_the_holdout_marked()
    {
        var id = await CreateSegmentAsync(OwnerApi, $"Everyone {Guid.NewGuid():N}", f.Big.Id, EveryCustomer);

        var pages = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var page = await OwnerApi.GetJsonAsync($"segments/{id}/members?columns=name&limit=500{(cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))}");
            pages.Add(page);
            cursor = page.GetProperty("next").GetString();
        }
        while (cursor is not null);
        var members = pages.SelectMany(p => p.GetProperty("rows").EnumerateArray()).ToList();
        var staleCursor = pages[0].GetProperty("next").GetString()!;

        Assert.Equal(5, pages.Count);
        Assert.All(pages, p => Assert.Equal(["customer", "name"], p.GetProperty("columns").EnumerateArray().Select(c => c.GetString())));
        Assert.All(pages, p => Assert.Equal(JsonValueKind.Null, p.GetProperty("holdout").ValueKind));
        Assert.Equal(Enumerable.Range(1, ApiFixture.BigCustomers).Select(i => (long)i), members.Select(m => m[0].GetInt64()));
        Assert.All(members, m => Assert.Equal($"Customer {m[0].GetInt64()}", m[1].GetString()));

        // A 20% holdout: each member marked as SegmentHoldout decides, and the cursors given before it stop working.
        Segment segment;
        await using (var db = await f.Factory.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            segment = await db.Segments.SingleAsync(s => s.Id == id, Ct);
            segment.HoldoutShare = 0.2;
            segment.HoldoutSalt = SegmentHoldout.NewSalt();
            await db.SaveChangesAsync(Ct);
        }
        var held = await OwnerApi.GetJsonAsync($"segments/{id}/members?limit=1000");
        var flags = held.GetProperty("holdout").EnumerateArray().Select(h => h.GetBoolean()).ToList();
        var keys = held.GetProperty("rows").EnumerateArray().Select(r => r[0].GetInt64().ToString(CultureInfo.InvariantCulture)).ToList();

        Assert.Equal(1000, flags.Count);
        Assert.Equal(keys.Select(k => SegmentHoldout.IsHeldOut(segment, k)), flags);
        Assert.InRange(flags.Count(h => h), 140, 260);
        await ProblemAsync(await OwnerApi.GetAsync($"segments/{id}/members?columns=name&limit=500&cursor={Uri.EscapeDataString(staleCursor)}"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Members_refuse_a_hidden_column_and_show_a_masked_one_masked_over_the_viewers_rows()
    {
        var hidden = await ProblemAsync(await ViewerApi.GetAsync($"segments/{f.Segment}/members?columns=name,phone"), HttpStatusCode.BadRequest);
        var masked = await ViewerApi.GetJsonAsync($"segments/{f.Segment}/members?columns=email");

        Assert.Contains("do not have access to the column \"phone\"", hidden.GetProperty("detail").GetString());
        Assert.Equal(["id", "email"], masked.GetProperty("columns").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(["1|a***@example.com", "3|c***@example.com"], Rows(masked));
    }

    [Fact]
    public async Task Changes_list_who_entered_and_left_at_each_refresh()
    {
        var people = await f.ImportAsync("people.csv", "customer,region\n1,North\n2,South\n3,North\n4,North\n5,South\n6,East\n");
        await f.AsOwnerAsync<Core.Catalog.DatasetSchemaService, Dataset>(s => s.SaveColumnsAsync(people.Id,
            Core.Catalog.DatasetRebuilder.SettingsOf(people).Select(c => c with { Role = c.Name == "customer" ? FieldRole.CustomerId : FieldRole.Dimension }).ToList(), Ct));
        var id = await CreateSegmentAsync(OwnerApi, $"North {Guid.NewGuid():N}", people.Id,
            Rule("""{"kind":"group","combinator":"and","children":[{"kind":"condition","field":"region","operator":"equals","value":"North"}]}"""));

        await f.ImportAsync("people.csv", "customer,region\n1,North\n2,North\n3,South\n4,North\n5,South\n6,East\n7,North\n", people.Id);
        var second = await ApiSession.ReadAsync(await OwnerApi.PostAsync($"segments/{id}/refresh"));
        await f.ImportAsync("people.csv", "customer,region\n1,South\n2,North\n4,North\n7,North\n8,North\n", people.Id);
        var third = await ApiSession.ReadAsync(await OwnerApi.PostAsync($"segments/{id}/refresh"));

        var latest = await OwnerApi.GetJsonAsync($"segments/{id}/changes");
        var atSecond = await OwnerApi.GetJsonAsync($"segments/{id}/changes?snapshot={second.GetProperty("id").GetInt32()}");
        var walked = await WalkAsync(OwnerApi, $"segments/{id}/changes?snapshot={second.GetProperty("id").GetInt32()}&limit=1", "changes");
        static List<string> Changes(IEnumerable<JsonElement> changes) =>
            changes.Select(c => $"{c.GetProperty("change").GetString()} {c.GetProperty("customer").GetString()}").ToList();

        Assert.Equal((4L, 2L, 1L), (second.GetProperty("size").GetInt64(), second.GetProperty("entered").GetInt64(), second.GetProperty("left").GetInt64()));
        Assert.Equal((4L, 1L, 1L), (third.GetProperty("size").GetInt64(), third.GetProperty("entered").GetInt64(), third.GetProperty("left").GetInt64()));
        Assert.Equal([3L, 4L, 4L], latest.GetProperty("snapshots").EnumerateArray().Select(s => s.GetProperty("size").GetInt64()));
        Assert.Equal(third.GetProperty("id").GetInt32(), latest.GetProperty("snapshot").GetProperty("id").GetInt32());
        Assert.False(latest.GetProperty("withheld").GetBoolean());
        Assert.Equal(["entered 8", "left 1"], Changes(latest.GetProperty("changes").EnumerateArray()));
        Assert.Equal(["entered 2", "entered 7", "left 3"], Changes(atSecond.GetProperty("changes").EnumerateArray()));
        Assert.Equal(Changes(atSecond.GetProperty("changes").EnumerateArray()), Changes(walked));
        await ProblemAsync(await OwnerApi.GetAsync($"segments/{id}/changes?snapshot=999999"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_segment_is_created_and_changed_from_rule_json_and_bad_rules_are_listed_as_problems()
    {
        var north = Rule("""{"kind":"group","combinator":"and","children":[{"kind":"condition","id":"r1","field":"region","operator":"equals","value":"North"}]}""");
        var created = await OwnerApi.PostAsync("segments", new { name = $"North {Guid.NewGuid():N}", datasetId = f.Customers.Id, rule = north, tags = new[] { "api" } });
        var body = await ApiSession.ReadAsync(created, HttpStatusCode.Created);
        var id = body.GetProperty("id").GetInt32();
        var cities = Rule("""{"kind":"group","combinator":"or","children":[{"kind":"condition","field":"city","operator":"in","values":["Oslo","Rome"]}]}""");
        var updated = await ApiSession.ReadAsync(await OwnerApi.PutAsync($"segments/{id}", new { name = "Oslo and Rome", datasetId = f.Customers.Id, rule = cities }));
        var read = await OwnerApi.GetJsonAsync($"segments/{id}");
        var count = await OwnerApi.GetJsonAsync($"segments/{id}/count");

        Assert.Equal($"/api/v1/segments/{id}", created.Headers.Location?.OriginalString);
        Assert.Equal(2, body.GetProperty("size").GetInt64());
        Assert.Equal(["api"], body.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        var condition = body.GetProperty("rule").GetProperty("root").GetProperty("children")[0];
        Assert.Equal(("r1", "region", "equals", "North"), (condition.GetProperty("id").GetString(), condition.GetProperty("field").GetString(),
            condition.GetProperty("operator").GetString(), condition.GetProperty("value").GetString()));
        Assert.Equal(1, body.GetProperty("rule").GetProperty("version").GetInt32());
        Assert.Equal("Oslo and Rome", updated.GetProperty("name").GetString());
        Assert.Equal("or", read.GetProperty("rule").GetProperty("root").GetProperty("combinator").GetString());
        Assert.Equal(["Oslo", "Rome"], read.GetProperty("rule").GetProperty("root").GetProperty("children")[0].GetProperty("values").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal((2L, 5L), (count.GetProperty("matching").GetInt64(), count.GetProperty("total").GetInt64()));

        // A condition without a field: listed by its node; a node without a kind: the place it went wrong.
        var incomplete = await ProblemAsync(await OwnerApi.PostAsync("segments", new { name = "Bad", datasetId = f.Customers.Id,
            rule = Rule("""{"kind":"group","children":[{"kind":"condition","id":"c1","field":"","operator":"equals","value":"North"}]}""") }), HttpStatusCode.BadRequest);
        var unreadable = await ProblemAsync(await OwnerApi.PutAsync($"segments/{id}", new { name = "Bad", datasetId = f.Customers.Id,
            rule = Rule("""{"kind":"group","children":[{"field":"region"}]}""") }), HttpStatusCode.BadRequest);
        var noRule = await ProblemAsync(await OwnerApi.PostAsync("segments", new { name = "Bad", datasetId = f.Customers.Id, rule = "region = North" }), HttpStatusCode.BadRequest);
        var noName = await ProblemAsync(await OwnerApi.PostAsync("segments", new { name = " ", datasetId = f.Customers.Id, rule = north }), HttpStatusCode.BadRequest);
        var byViewer = await ProblemAsync(await ViewerApi.PostAsync("segments", new { name = "Mine", datasetId = f.Customers.Id, rule = north }), HttpStatusCode.Forbidden);

        Assert.Equal(["Choose a field."], incomplete.GetProperty("errors").GetProperty("rule.c1").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("root.children[0]", unreadable.GetProperty("errors").GetProperty("rule")[0].GetString());
        Assert.Contains("JSON object", noRule.GetProperty("errors").GetProperty("rule")[0].GetString());
        Assert.Equal("Give the segment a name.", noName.GetProperty("detail").GetString());
        Assert.Equal("You do not have permission to do that.", byViewer.GetProperty("detail").GetString());
        Assert.Equal("Oslo and Rome", (await OwnerApi.GetJsonAsync($"segments/{id}")).GetProperty("name").GetString());
    }

    [Fact]
    public async Task The_request_examples_of_the_OpenAPI_document_are_requests_the_api_takes()
    {
        var document = await OwnerApi.GetJsonAsync("/openapi/v1.json");
        JsonElement Example(string path, string method) =>
            document.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("requestBody").GetProperty("content")
                .GetProperty("application/json").GetProperty("example");

        var query = Example("/api/v1/datasets/{id}/query", "post");
        var answer = await ApiSession.ReadAsync(await OwnerApi.PostAsync($"datasets/{f.Customers.Id}/query", query.GetRawText()));
        Assert.Equal(["city", "customers"], answer.GetProperty("columns").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(2, answer.GetProperty("rows").EnumerateArray().Sum(r => r[1].GetInt64())); // the two North customers

        var draft = System.Text.Json.Nodes.JsonNode.Parse(Example("/api/v1/segments", "post").GetRawText())!;
        draft["datasetId"] = f.Customers.Id;
        draft["name"] = $"North customers {Guid.NewGuid():N}";
        var created = await ApiSession.ReadAsync(await OwnerApi.PostAsync("segments", draft.ToJsonString()), HttpStatusCode.Created);
        Assert.Equal(2, created.GetProperty("size").GetInt64());
        Assert.Equal(JsonValueKind.Object, Example("/api/v1/segments/{id}", "put").ValueKind);
        await ApiSession.ReadAsync(await OwnerApi.PutAsync($"segments/{created.GetProperty("id").GetInt32()}", draft.ToJsonString()));
    }

    [Fact]
    public async Task Items_the_caller_may_not_see_are_answered_404_exactly_like_missing_ones()
    {
        var stranger = f.StrangerSession;
        async Task<string> Detail(string path) => (await ProblemAsync(await stranger.GetAsync(path), HttpStatusCode.NotFound)).GetProperty("detail").GetString()!;

        Assert.Equal(await Detail("segments/999999"), await Detail($"segments/{f.Segment}"));
        Assert.Equal(await Detail("segments/999999/members"), await Detail($"segments/{f.Segment}/members"));
        Assert.Equal(await Detail("dashboards/999999"), await Detail($"dashboards/{f.Board}"));
        Assert.Equal(await Detail("dashboards/999999/tiles/people/data"), await Detail($"dashboards/{f.Board}/tiles/people/data"));
        Assert.Equal(await Detail("datasets/999999/schema"), await Detail($"datasets/{f.Big.Id}/schema"));
        Assert.DoesNotContain(f.Segment, (await stranger.GetJsonAsync("segments?limit=100")).GetProperty("items").EnumerateArray().Select(s => s.GetProperty("id").GetInt32()));
        await ProblemAsync(await OwnerApi.GetAsync($"dashboards/{f.Board}/tiles/no-such-tile/data"), HttpStatusCode.NotFound);
        // A Viewer's read-only share does not let them refresh.
        await ProblemAsync(await ViewerApi.PostAsync($"segments/{f.RefreshedSegment}/refresh"), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Dashboards_list_their_tiles_and_a_tiles_data_as_the_caller_sees_it()
    {
        var boards = await WalkAsync(ViewerApi, "dashboards?limit=1");
        var board = await ViewerApi.GetJsonAsync($"dashboards/{f.Board}");
        var byRegion = await ViewerApi.GetJsonAsync($"dashboards/{f.Board}/tiles/byRegion/data");
        var ownersByRegion = await OwnerApi.GetJsonAsync($"dashboards/{f.Board}/tiles/byRegion/data");
        var people = await ViewerApi.GetJsonAsync($"dashboards/{f.Board}/tiles/people/data");

        Assert.Contains(boards, b => b.GetProperty("id").GetInt32() == f.Board && b.GetProperty("name").GetString() == "Regions");
        Assert.Equal(["By region", "By category", "People"], board.GetProperty("tiles").EnumerateArray().Select(t => t.GetProperty("title").GetString()));
        Assert.Equal("Bar", byRegion.GetProperty("type").GetString());
        Assert.Equal(["region"], byRegion.GetProperty("dimensions").EnumerateArray().Select(d => d.GetString()));
        Assert.Equal(["North|3200"], Rows(byRegion));
        Assert.Equal(["East|100", "North|3200", "South|160"], Rows(ownersByRegion).Order(StringComparer.Ordinal));
        Assert.Equal(["Table", "id|name|email"], [people.GetProperty("type").GetString()!, string.Join("|", people.GetProperty("dimensions").EnumerateArray().Select(d => d.GetString()))]);
        Assert.Equal(["1|Ann|a***@example.com", "3|Cy|c***@example.com"], Rows(people).Order(StringComparer.Ordinal));
    }
}
