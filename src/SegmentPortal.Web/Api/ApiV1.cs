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

    /// <summary>Whether a request is for the REST API (tokens accepted, problem details, its rate limit).</summary>
    public static bool IsApi(PathString path) => path.StartsWithSegments(Prefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>The API's services: problem details, its limits, the OpenAPI document, 401/403 answers without redirects.</summary>
    public static IServiceCollection AddApiV1(this IServiceCollection services)
    {
        services.AddProblemDetails();
        services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.Section);
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, ApiAuthorizationResultHandler>();
        services.AddApiDocs();
        return services;
    }

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
        // Antiforgery is checked by the request filter, for sessions only: a token request carries no cookie to forge.
        var v1 = endpoints.MapGroup(Prefix).RequireAuthorization().DisableAntiforgery()
            .AddEndpointFilter(ApiProblems.RequestFilter)
            .ProducesProblem(StatusCodes.Status400BadRequest);
        v1.MapMeApi();
        v1.MapDatasetsApi();
        v1.MapSegmentsApi();
        v1.MapDashboardsApi();
        v1.MapUploadsApi();
        endpoints.MapApiDocs();
        return endpoints;
    }

    /// <summary><c>GET /api/v1/me</c>: who the token or session acts as, and what it may do.</summary>
    private static RouteGroupBuilder MapMeApi(this RouteGroupBuilder v1)
    {
        v1.MapGet("/me", (HttpContext http) =>
        {
            var user = http.User;
            return TypedResults.Ok(new ApiMe(
                user.UserId()!,
                user.Identity?.Name ?? "",
                Roles.All.Where(user.IsInRole).ToList(),
                ApiScopes.IsToken(user) ? ApiScopes.All.Where(s => user.HasClaim(ApiScopes.ClaimType, s)).ToList() : ApiScopes.All,
                ApiScopes.IsToken(user) ? int.Parse(user.FindFirst(ApiScopes.TokenClaimType)!.Value, System.Globalization.CultureInfo.InvariantCulture) : null));
        })
        .WithName("GetMe").WithSummary("Who the request acts as").WithTags("Account")
        .WithDescription("The user a token or session acts as, their roles, the scopes it may use and the token's id (null for a session).");
        return v1;
    }
}

/// <summary>The answer of <c>GET /api/v1/me</c>.</summary>
public sealed record ApiMe(string UserId, string Email, IReadOnlyList<string> Roles, IReadOnlyList<string> Scopes, int? TokenId);
