using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using static SegmentPortal.Tests.Web.ApiAudience;

namespace SegmentPortal.Tests.Web;

/// <summary>
/// The permission matrix of the REST API's data endpoints, over HTTP: every endpoint × every <see cref="ApiAudience"/>,
/// with the status and exactly the rows, columns and masked values each may get. The Core matrix
/// (<see cref="Access.PermissionMatrix"/>) covers the services these endpoints call; this covers the endpoints themselves
/// (a principal set for the request, the scope, what leaves as JSON). The data is <see cref="Access.PermissionFixture"/>'s.
/// </summary>
public sealed class ApiPermissionMatrixTests(ApiFixture f) : IClassFixture<ApiFixture>
{
    /// <summary>Every endpoint of the matrix, in the order of the API.</summary>
    public static readonly string[] Endpoints =
    [
        "GET datasets", "GET dataset schema", "POST dataset query",
        "GET segments", "GET segment", "POST segments", "PUT segment", "GET segment count", "GET segment members", "GET segment changes",
        "POST segment refresh",
        "GET dashboards", "GET dashboard", "GET tile data",
    ];

    /// <summary>How the caller signs its requests: a personal access token, or a browser session.</summary>
    public enum Via { Token, Session }

    public static TheoryData<string, ApiAudience, Via> Cells()
    {
        var data = new TheoryData<string, ApiAudience, Via>();
        foreach (var endpoint in Endpoints)
        {
            foreach (var audience in Enum.GetValues<ApiAudience>())
            {
                foreach (var via in Enum.GetValues<Via>())
                {
                    data.Add(endpoint, audience, via);
                }
            }
        }
        return data;
    }

    /// <summary>A token and a session of the same user get exactly the same answer from every endpoint.</summary>
    [Theory]
    [MemberData(nameof(Cells))]
    public async Task Cell(string endpoint, ApiAudience audience, Via via)
    {
        var (status, lines) = await RunAsync(endpoint, via == Via.Token ? f.Token(audience) : f.Session(audience));
        var (expectedStatus, expectedLines) = Expected(endpoint, audience);

        Assert.True(expectedStatus == status, $"{audience} got {(int)status} from {endpoint}, expected {(int)expectedStatus}: {string.Join(" / ", lines)}");
        if (status is HttpStatusCode.OK or HttpStatusCode.Created)
        {
            Assert.Equal(expectedLines, lines);
        }
    }

    // ----- what each kind of caller may see -----

    private sealed record Customer(int Id, string Name, string Region, string Email, string Phone, int Credit, string City);

    private sealed record Order(int Id, string Category, string Region, int Amount);

    private static readonly Customer[] AllCustomers =
    [
        new(1, "Ann", "North", "ann@example.com", "13812345678", 1000, "Oslo"),
        new(2, "Bo", "South", "bo@example.com", "13987654321", 2000, "Rome"),
        new(3, "Cy", "North", "cy@example.com", "13711112222", 3000, "Bergen"),
        new(4, "Di", "East", "di@example.com", "13633334444", 4000, "Tokyo"),
        new(5, "Ed", "South", "ed@example.com", "13555556666", 5000, "Madrid"),
    ];

    private static readonly Order[] AllOrders =
    [
        new(101, "Toys", "North", 500), new(102, "Books", "North", 700), new(103, "Toys", "South", 50), new(104, "Garden", "South", 30),
        new(105, "Electronics", "North", 2000), new(106, "Books", "East", 100), new(107, "Garden", "South", 80),
    ];

    /// <param name="Regions">The regions whose rows they see.</param>
    /// <param name="ColumnRules">The Viewers' column rules apply: e-mail masked, phone hidden, credit limit hashed.</param>
    /// <param name="Analyst">May create segments (manage data).</param>
    /// <param name="EditsItems">The segments' owner or Editor: may change and refresh them.</param>
    private sealed record Audience(string[] Regions, bool ColumnRules, bool Analyst, bool EditsItems)
    {
        /// <summary>No data rule narrows what they see: stored sizes and refreshes are theirs to see.</summary>
        public bool SeesStored => Regions.Length == 3 && !ColumnRules;
    }

    private static readonly string[] Everywhere = ["North", "South", "East"];

    private static Audience Of(ApiAudience audience) => audience switch
    {
        Owner => new(Everywhere, false, true, true),
        Editor => new(["North"], false, true, true),
        ViewShare => new(Everywhere, false, true, false),
        RowRuled => new(["North"], false, true, false),
        ColumnRuled => new(Everywhere, true, false, false),
        _ => new(["North"], true, false, false),
    };

    private (HttpStatusCode, List<string>) Expected(string endpoint, ApiAudience audience)
    {
        if (audience == Revoked)
        {
            return (HttpStatusCode.Unauthorized, []);
        }
        var a = Of(audience);
        var customers = AllCustomers.Where(c => a.Regions.Contains(c.Region)).ToList();
        var orders = AllOrders.Where(o => a.Regions.Contains(o.Region)).ToList();
        string Email(Customer c) => a.ColumnRules ? $"{c.Email[0]}***{c.Email[c.Email.IndexOf('@', StringComparison.Ordinal)..]}" : c.Email;
        string Credit(Customer c) => a.ColumnRules
            ? Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(f.HashKey + c.Credit.ToString(CultureInfo.InvariantCulture))))[..16]
            : c.Credit.ToString(CultureInfo.InvariantCulture);
        string[] columns = a.ColumnRules ? ["id", "name", "region", "email", "credit_limit", "city"] : ["id", "name", "region", "email", "phone", "credit_limit", "city"];
        string Row(Customer c) => string.Join("|", a.ColumnRules
            ? new[] { $"{c.Id}", c.Name, c.Region, Email(c), Credit(c), c.City }
            : [$"{c.Id}", c.Name, c.Region, Email(c), c.Phone, Credit(c), c.City]);
        List<string> Table() => [string.Join("|", columns), .. Sorted(customers.Select(Row))];
        List<string> Sums(string tile, Func<Order, string> by) => Sorted(orders.GroupBy(by).Select(g => $"{tile}:{g.Key}|{g.Sum(o => o.Amount)}"));
        var ok = HttpStatusCode.OK;
        var forbidden = HttpStatusCode.Forbidden;

        return endpoint switch
        {
            "GET datasets" => (ok, [$"rows={customers.Count}", $"columns={columns.Length}"]),
            "GET dataset schema" => (ok, [.. columns.Select(c => c switch
            {
                "email" when a.ColumnRules => "email|masked",
                "credit_limit" when a.ColumnRules => "credit_limit|hashed",
                _ => $"{c}|visible",
            }), $"rows={customers.Count}"]),
            "POST dataset query" or "GET segment members" => (ok, Table()),
            "GET segments" or "GET segment" => (ok, [$"size={(a.SeesStored ? "5" : "null")}", "rule=city isNotEmpty"]),
            // A new segment's stored size is withheld, like any stored size, from those with data rules.
            "POST segments" => a.Analyst ? (HttpStatusCode.Created, [$"size={(a.SeesStored ? "5" : "null")}"]) : (forbidden, []),
            "PUT segment" => a.EditsItems ? (ok, [$"size={customers.Count}"]) : (forbidden, []),
            "GET segment count" => (ok, [$"{customers.Count} of {customers.Count}"]),
            // The owner's refresh when the segment was saved: everyone entered.
            "GET segment changes" => (ok, a.SeesStored ? ["entered=1,2,3,4,5", "left="] : ["withheld"]),
            "POST segment refresh" => a.EditsItems ? (ok, [$"size={customers.Count}"]) : (forbidden, []),
            "GET dashboards" => (ok, ["Regions: 3 tiles"]),
            "GET dashboard" => (ok, ["byRegion,byCategory,people"]),
            "GET tile data" => (ok, [.. Sums("byRegion", o => o.Region), .. Sums("byCategory", o => o.Category),
                .. Sorted(customers.Select(c => $"people:{c.Id}|{c.Name}|{Email(c)}"))]),
            _ => throw new InvalidOperationException($"No expectation for {endpoint}."),
        };
    }

    // ----- running each endpoint -----

    private async Task<(HttpStatusCode, List<string>)> RunAsync(string endpoint, ApiSession api)
    {
        switch (endpoint)
        {
            case "GET datasets":
            {
                var (status, json) = await Get(api, "datasets?limit=100");
                return (status, json is not { } page ? [] : Item(page, f.Customers.Id) is { } d
                    ? [$"rows={d.GetProperty("rows").GetInt64()}", $"columns={d.GetProperty("columns").GetInt32()}"]
                    : ["customers not listed"]);
            }
            case "GET dataset schema":
            {
                var (status, json) = await Get(api, $"datasets/{f.Customers.Id}/schema");
                return (status, json is not { } schema ? [] :
                [
                    .. schema.GetProperty("columns").EnumerateArray().Select(c =>
                        $"{c.GetProperty("name").GetString()}|{c.GetProperty("treatment").GetString()!.ToLowerInvariant()}"),
                    $"rows={schema.GetProperty("rows").GetInt64()}",
                ]);
            }
            case "POST dataset query":
            {
                var (status, json) = await Send(api.PostAsync($"datasets/{f.Customers.Id}/query", new { }));
                return (status, json is { } result ? TableOf(result) : []);
            }
            case "GET segments":
            {
                var (status, json) = await Get(api, "segments?limit=100");
                return (status, json is not { } page ? [] : Item(page, f.Segment) is { } s ? [$"size={Size(s)}", "rule=city isNotEmpty"] : ["segment not listed"]);
            }
            case "GET segment":
            {
                var (status, json) = await Get(api, $"segments/{f.Segment}");
                if (json is not { } s)
                {
                    return (status, []);
                }
                var condition = s.GetProperty("rule").GetProperty("root").GetProperty("children")[0];
                return (status, [$"size={Size(s)}", $"rule={condition.GetProperty("field").GetString()} {condition.GetProperty("operator").GetString()}"]);
            }
            case "POST segments":
            {
                var (status, json) = await Send(api.PostAsync("segments", Draft($"Made by {Guid.NewGuid():N}")));
                return (status, json is { } s ? [$"size={Size(s)}"] : []);
            }
            case "PUT segment":
            {
                var (status, json) = await Send(api.PutAsync($"segments/{f.EditedSegment}", Draft("Edited by others")));
                // The size is stored, and withheld from those with data rules: count it live instead.
                return json is null ? (status, []) : (status, [$"size={await LiveCountAsync(api, f.EditedSegment)}"]);
            }
            case "GET segment count":
            {
                var (status, json) = await Get(api, $"segments/{f.Segment}/count");
                return (status, json is { } c ? [$"{c.GetProperty("matching").GetInt64()} of {c.GetProperty("total").GetInt64()}"] : []);
            }
            case "GET segment members":
            {
                var (status, json) = await Get(api, $"segments/{f.Segment}/members");
                return (status, json is { } page ? TableOf(page) : []);
            }
            case "GET segment changes":
            {
                var (status, json) = await Get(api, $"segments/{f.Segment}/changes?snapshot={await FirstSnapshotAsync()}");
                if (json is not { } c)
                {
                    return (status, []);
                }
                if (c.GetProperty("withheld").GetBoolean())
                {
                    Assert.Empty(c.GetProperty("snapshots").EnumerateArray());
                    Assert.Empty(c.GetProperty("changes").EnumerateArray());
                    return (status, ["withheld"]);
                }
                string Of(string kind) => string.Join(",", c.GetProperty("changes").EnumerateArray()
                    .Where(x => x.GetProperty("change").GetString() == kind).Select(x => x.GetProperty("customer").GetString()).Order(StringComparer.Ordinal));
                return (status, [$"entered={Of("entered")}", $"left={Of("left")}"]);
            }
            case "POST segment refresh":
            {
                var (status, json) = await Send(api.PostAsync($"segments/{f.RefreshedSegment}/refresh"));
                return (status, json is { } s ? [$"size={s.GetProperty("size").GetInt64()}"] : []);
            }
            case "GET dashboards":
            {
                var (status, json) = await Get(api, "dashboards?limit=100");
                return (status, json is not { } page ? [] : Item(page, f.Board) is { } b
                    ? [$"{b.GetProperty("name").GetString()}: {b.GetProperty("tiles").GetInt32()} tiles"]
                    : ["board not listed"]);
            }
            case "GET dashboard":
            {
                var (status, json) = await Get(api, $"dashboards/{f.Board}");
                return (status, json is { } b ? [string.Join(",", b.GetProperty("tiles").EnumerateArray().Select(t => t.GetProperty("id").GetString()))] : []);
            }
            case "GET tile data":
            {
                var lines = new List<string>();
                foreach (var tile in new[] { "byRegion", "byCategory", "people" })
                {
                    var (status, json) = await Get(api, $"dashboards/{f.Board}/tiles/{tile}/data");
                    if (json is not { } data)
                    {
                        return (status, []);
                    }
                    lines.AddRange(Sorted(Rows(data).Select(r => $"{tile}:{r}")));
                }
                return (HttpStatusCode.OK, lines);
            }
            default:
                throw new InvalidOperationException($"The matrix has no way to call “{endpoint}”.");
        }
    }

    private object Draft(string name) => new
    {
        name,
        datasetId = f.Customers.Id,
        rule = JsonDocument.Parse("""{"version":1,"root":{"kind":"group","combinator":"and","children":[{"kind":"condition","field":"city","operator":"isNotEmpty"}]}}""").RootElement,
    };

    private async Task<long> LiveCountAsync(ApiSession api, int segment) =>
        (await api.GetJsonAsync($"segments/{segment}/count")).GetProperty("matching").GetInt64();

    private async Task<int> FirstSnapshotAsync() =>
        (await f.Session(Owner).GetJsonAsync($"segments/{f.Segment}/changes")).GetProperty("snapshots")[0].GetProperty("id").GetInt32();

    private static async Task<(HttpStatusCode, JsonElement?)> Get(ApiSession api, string path) => await Send(api.GetAsync(path));

    private static async Task<(HttpStatusCode, JsonElement?)> Send(Task<HttpResponseMessage> sending)
    {
        using var response = await sending;
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return (response.StatusCode, null);
        }
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static JsonElement? Item(JsonElement page, int id) =>
        page.GetProperty("items").EnumerateArray().Where(i => i.GetProperty("id").GetInt32() == id).Select(i => (JsonElement?)i).FirstOrDefault();

    private static string Size(JsonElement segment) => segment.GetProperty("size") is { ValueKind: JsonValueKind.Number } size ? size.GetRawText() : "null";

    public static string Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null => "∅",
        JsonValueKind.String => value.GetString()!,
        _ => value.GetRawText(),
    };

    public static IEnumerable<string> Rows(JsonElement result) =>
        result.GetProperty("rows").EnumerateArray().Select(r => string.Join("|", r.EnumerateArray().Select(Text)));

    public static List<string> TableOf(JsonElement result) =>
        [string.Join("|", result.GetProperty("columns").EnumerateArray().Select(c => c.GetString())), .. Sorted(Rows(result))];

    private static List<string> Sorted(IEnumerable<string> lines) => lines.Order(StringComparer.Ordinal).ToList();
}
