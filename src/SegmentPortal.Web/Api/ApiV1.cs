using SegmentPortal.Core.Identity;

namespace SegmentPortal.Web.Api;

/// <summary>
/// The REST API under <c>/api/v1</c>. Every endpoint needs a personal access token (Authorization: Bearer) or a
/// signed-in session, and one scope (<see cref="ApiScopes"/>); what it returns comes from Core's services run as that
/// user, so the permission layer applies exactly as in the app.
/// </summary>
public static class ApiV1
{
    public const string Prefix = "/api/v1";

    /// <summary>Registers one authorization policy per scope.</summary>
    public static Microsoft.AspNetCore.Authorization.AuthorizationBuilder AddApiScopePolicies(this Microsoft.AspNetCore.Authorization.AuthorizationBuilder authorization)
    {
        foreach (var scope in ApiScopes.All)
        {
            authorization.AddPolicy(ApiScopes.Policy(scope), p => p.RequireAssertion(ctx => ApiScopes.Allows(ctx.User, scope)));
        }
        return authorization;
    }

    /// <summary>Requires <paramref name="scope"/> on an endpoint or group.</summary>
    public static TBuilder RequireScope<TBuilder>(this TBuilder builder, string scope) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(ApiScopes.Policy(scope));

    public static IEndpointRouteBuilder MapApiV1(this IEndpointRouteBuilder endpoints)
    {
        var v1 = endpoints.MapGroup(Prefix).RequireAuthorization();
        v1.MapDatasetsApi();
        v1.MapSegmentsApi();
        v1.MapDashboardsApi();
        v1.MapUploadsApi();
        return endpoints;
    }
}
