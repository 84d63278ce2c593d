using Microsoft.AspNetCore.Http.HttpResults;
using SegmentPortal.Core;
using SegmentPortal.Core.Identity;

namespace SegmentPortal.Web.Api;

/// <summary>
/// What every data endpoint of <see cref="ApiV1"/> shares: a refusal of Core's becomes a problem-details answer as
/// <see cref="ApiProblems.Describe"/> words it — 403 for want of permission, 404 for an item the user cannot see (it is
/// answered exactly as one that does not exist), 400 for a request Core refuses with its reason; anything else is logged
/// and answered 500 with a reference only. (Core's services act as the request's user: <see cref="ApiProblems.RequestFilter"/>
/// and the token scheme set its <see cref="ScopedPrincipal"/>.)
/// </summary>
internal static class ApiServing
{
    /// <summary>Turns Core's refusals into problem details for the group's endpoints.</summary>
    public static RouteGroupBuilder ServedAsUser(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            try
            {
                return await next(context);
            }
            catch (PortalException ex)
            {
                return Refusal(ex);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !http.RequestAborted.IsCancellationRequested)
            {
                var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("SegmentPortal.Api");
                return TypedResults.Problem(UserErrors.Describe(ex, logger, "serving this request", $"{http.Request.Method} {http.Request.Path}"),
                    statusCode: StatusCodes.Status500InternalServerError, title: "Something went wrong");
            }
        });
        group.ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    /// <summary>Core's refusal as problem details (see <see cref="ApiServing"/>).</summary>
    public static ProblemHttpResult Refusal(PortalException ex)
    {
        var (status, detail) = ApiProblems.Describe(ex)!.Value;
        return ApiProblems.Problem(status, detail);
    }

    public static ProblemHttpResult NotFound(string detail) => ApiProblems.Problem(StatusCodes.Status404NotFound, detail);

    public static ProblemHttpResult BadRequest(string detail) => ApiProblems.Problem(StatusCodes.Status400BadRequest, detail);
}
