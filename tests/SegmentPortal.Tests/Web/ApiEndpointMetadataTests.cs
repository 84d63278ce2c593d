using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Identity;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Web;

/// <summary>
/// The data endpoints of <c>/api/v1</c> as the host maps them: each needs its scope (a token without it is refused
/// before Core is asked), and each carries the name, summary and description the OpenAPI document is generated from.
/// </summary>
public sealed class ApiEndpointMetadataTests : IAsyncLifetime
{
    private readonly PortalFactory _factory = new();

    public ValueTask InitializeAsync()
    {
        _ = _factory.Server;
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _factory.DisposeAsync();

    /// <summary>Every data endpoint and the one scope it needs.</summary>
    private static readonly Dictionary<string, string> Scopes = new()
    {
        ["GET /api/v1/datasets"] = ApiScopes.ReadData,
        ["GET /api/v1/datasets/{id:int}/schema"] = ApiScopes.ReadData,
        ["POST /api/v1/datasets/{id:int}/query"] = ApiScopes.ReadData,
        ["GET /api/v1/segments"] = ApiScopes.ReadSegments,
        ["GET /api/v1/segments/{id:int}"] = ApiScopes.ReadSegments,
        ["POST /api/v1/segments"] = ApiScopes.ManageSegments,
        ["PUT /api/v1/segments/{id:int}"] = ApiScopes.ManageSegments,
        ["GET /api/v1/segments/{id:int}/count"] = ApiScopes.ReadSegments,
        ["GET /api/v1/segments/{id:int}/members"] = ApiScopes.ReadSegments,
        ["GET /api/v1/segments/{id:int}/changes"] = ApiScopes.ReadSegments,
        ["POST /api/v1/segments/{id:int}/refresh"] = ApiScopes.ManageSegments,
        ["GET /api/v1/dashboards"] = ApiScopes.ReadDashboards,
        ["GET /api/v1/dashboards/{id:int}"] = ApiScopes.ReadDashboards,
        ["GET /api/v1/dashboards/{id:int}/tiles/{tileId}/data"] = ApiScopes.ReadDashboards,
    };

    private List<(string Route, Endpoint Endpoint)> DataEndpoints() =>
        _factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } raw && (raw.StartsWith("/api/v1/datasets", StringComparison.Ordinal)
                || raw.StartsWith("/api/v1/segments", StringComparison.Ordinal) || raw.StartsWith("/api/v1/dashboards", StringComparison.Ordinal)))
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? []).Select(m => ($"{m} {e.RoutePattern.RawText!.TrimEnd('/')}", (Endpoint)e)))
            .ToList();

    [Fact]
    public void Every_data_endpoint_needs_its_scope_and_only_that_one()
    {
        var endpoints = DataEndpoints();

        Assert.Equal(Scopes.Keys.Order(StringComparer.Ordinal), endpoints.Select(e => e.Route).Order(StringComparer.Ordinal));
        Assert.All(endpoints, e =>
        {
            var policies = e.Endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).OfType<string>().Where(p => p.StartsWith("api:", StringComparison.Ordinal)).ToList();
            Assert.True(policies.SequenceEqual([ApiScopes.Policy(Scopes[e.Route])]), $"{e.Route} requires {string.Join(", ", policies)}");
        });
    }

    [Fact]
    public void Every_data_endpoint_has_a_name_summary_and_description_for_the_openapi_document()
    {
        var endpoints = DataEndpoints();

        Assert.All(endpoints, e =>
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Endpoint.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName), $"{e.Route} has no name");
            Assert.False(string.IsNullOrWhiteSpace(e.Endpoint.Metadata.GetMetadata<IEndpointSummaryMetadata>()?.Summary), $"{e.Route} has no summary");
            Assert.False(string.IsNullOrWhiteSpace(e.Endpoint.Metadata.GetMetadata<IEndpointDescriptionMetadata>()?.Description), $"{e.Route} has no description");
            Assert.Contains(e.Endpoint.Metadata.GetOrderedMetadata<IProducesResponseTypeMetadata>(), p => p.StatusCode is 200 or 201);
            Assert.Contains(e.Endpoint.Metadata.GetOrderedMetadata<IProducesResponseTypeMetadata>(), p => p.StatusCode == 404);
        });
        Assert.Equal(endpoints.Count, endpoints.Select(e => e.Endpoint.Metadata.GetMetadata<IEndpointNameMetadata>()!.EndpointName).Distinct().Count());
    }
}
