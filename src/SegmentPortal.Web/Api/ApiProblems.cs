using System.Globalization;
using System.Text.Json;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.RateLimiting;
using SegmentPortal.Core;
using SegmentPortal.Core.Identity;

namespace SegmentPortal.Web.Api;

/// <summary>Something an endpoint was asked for does not exist, or is not the caller's to see: a 404 problem.</summary>
public sealed class ApiNotFoundException(string message) : PortalException(message);

/// <summary>
/// How <c>/api/v1</c> answers when something goes wrong: RFC 9457 problem details (<c>application/problem+json</c>) for
/// a missing or refused token (401), a missing scope or permission (403), a refused request (400), a thing that is not
/// there (404), a body over the limit (413) and too many requests (429, with Retry-After).
/// </summary>
public static class ApiProblems
{
    /// <summary>How Core words "that item does not exist or you do not have access to it" (missing and forbidden alike).</summary>
    private const string MissingSuffix = "does not exist or you do not have access to it.";

    public static ProblemHttpResult Problem(int status, string detail) =>
        TypedResults.Problem(detail, statusCode: status, title: status switch
        {
            StatusCodes.Status400BadRequest => "The request cannot be served",
            StatusCodes.Status401Unauthorized => "Not signed in",
            StatusCodes.Status403Forbidden => "Not allowed",
            StatusCodes.Status404NotFound => "Not found",
            StatusCodes.Status413PayloadTooLarge => "Too large",
            StatusCodes.Status429TooManyRequests => "Too many requests",
            _ => null,
        });

    /// <summary>The status and words for an exception an endpoint let through; null for a fault (500, logged by the host).</summary>
    public static (int Status, string Detail)? Describe(Exception exception) => exception switch
    {
        PermissionDeniedException e => (StatusCodes.Status403Forbidden, e.Message),
        ApiNotFoundException e => (StatusCodes.Status404NotFound, e.Message),
        PortalException e when e.Message.EndsWith(MissingSuffix, StringComparison.Ordinal) => (StatusCodes.Status404NotFound, e.Message),
        PortalException e => (StatusCodes.Status400BadRequest, e.Message),
        AntiforgeryValidationException => (StatusCodes.Status400BadRequest,
            "A signed-in browser's change needs its antiforgery token (the RequestVerificationToken header). Scripts use a personal access token instead."),
        BadHttpRequestException e => (e.StatusCode, e.Message),
        JsonException e => (StatusCodes.Status400BadRequest, "The JSON of the request could not be read: " + e.Message),
        _ => null,
    };

    /// <summary>
    /// Maps exceptions of <c>/api/v1</c> requests to problem details; the API's own request limits
    /// (<see cref="ApiOptions.MaxRequestBytes"/>, or an endpoint's <see cref="IRequestSizeLimitMetadata"/>) are checked first.
    /// </summary>
    public static IApplicationBuilder UseApiProblems(this IApplicationBuilder app) =>
        app.UseWhen(http => ApiV1.IsApi(http.Request.Path), api => api.Use(async (http, next) =>
        {
            var limit = http.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>()?.MaxRequestBodySize
                ?? http.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<ApiOptions>>().Value.MaxRequestBytes;
            if (limit is { } max)
            {
                if (http.Request.ContentLength > max)
                {
                    await Problem(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than the {max:N0} bytes this endpoint takes.").ExecuteAsync(http);
                    return;
                }
                if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
                {
                    feature.MaxRequestBodySize = max;
                }
            }
            try
            {
                await next(http);
            }
            catch (Exception ex) when (!http.Response.HasStarted && Describe(ex) is { } problem)
            {
                http.Response.Clear();
                await Problem(problem.Status, problem.Detail).ExecuteAsync(http);
            }
        }));

    /// <summary>
    /// For every <c>/api/v1</c> endpoint: a signed-in session's user is the one Core's services act for (a token's was
    /// set when it was checked), and a session's unsafe request (POST, PUT, PATCH, DELETE) must carry its antiforgery
    /// token. Requests with a token need none: a browser never sends one on its own.
    /// </summary>
    internal static async ValueTask<object?> RequestFilter(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!ApiScopes.IsToken(http.User))
        {
            http.RequestServices.GetRequiredService<ScopedPrincipal>().Principal = http.User;
            if (!(HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method) || HttpMethods.IsOptions(http.Request.Method)))
            {
                await http.RequestServices.GetRequiredService<IAntiforgery>().ValidateRequestAsync(http);
            }
        }
        return await next(context);
    }

    /// <summary>The per-request rate limit partition of an API request: its token, else its user, else its address.</summary>
    internal static RateLimitPartition<string> RatePartition(HttpContext http, ApiOptions options)
    {
        var key = http.User.FindFirst(ApiScopes.TokenClaimType)?.Value is { } token ? "api:token:" + token
            : http.User.UserId() is { } user ? "api:user:" + user
            : "api:address:" + (http.Connection.RemoteIpAddress?.ToString() ?? "unknown");
        return RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = Math.Max(1, options.RequestsPerMinute),
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        });
    }

    internal static async ValueTask RejectAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var http = context.HttpContext;
        var wait = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromMinutes(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await Problem(StatusCodes.Status429TooManyRequests,
            $"Too many requests: at most {http.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<ApiOptions>>().Value.RequestsPerMinute} a minute. Try again in {seconds} s.")
            .ExecuteAsync(http);
    }
}

/// <summary>
/// Answers a refused <c>/api/v1</c> request with problem details instead of a redirect: 401 (with
/// <c>WWW-Authenticate: Bearer</c>) when there is no valid token or session, 403 when the token lacks the endpoint's scope
/// or the user its permission. Everything else is ASP.NET Core's usual handling.
/// </summary>
internal sealed class ApiAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Succeeded || !ApiV1.IsApi(context.Request.Path))
        {
            await _default.HandleAsync(next, context, policy, authorizeResult);
            return;
        }
        if (authorizeResult.Challenged || context.User.Identity?.IsAuthenticated != true)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            var detail = context.Items[ApiAuthentication.RefusalItem] as string
                ?? "Send a personal access token (Authorization: Bearer sp_…) or sign in.";
            await ApiProblems.Problem(StatusCodes.Status401Unauthorized, detail).ExecuteAsync(context);
            return;
        }
        var scope = context.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>()
            .Select(a => a.Policy).FirstOrDefault(p => p is not null && p.StartsWith(ApiScopes.Policy(""), StringComparison.Ordinal))?[ApiScopes.Policy("").Length..];
        var message = scope is not null && !ApiScopes.Allows(context.User, scope)
            ? $"This token does not have the scope {scope} ({ApiScopes.Descriptions.GetValueOrDefault(scope)})."
            : "You do not have permission to do that.";
        await ApiProblems.Problem(StatusCodes.Status403Forbidden, message).ExecuteAsync(context);
    }
}
