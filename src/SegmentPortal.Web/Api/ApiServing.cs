using Microsoft.AspNetCore.Http.HttpResults;
using SegmentPortal.Core;
using SegmentPortal.Core.Identity;

namespace SegmentPortal.Web.Api;

/// <summary>
/// What every data endpoint of <see cref="ApiV1"/> shares: Core's services act as the request's user (its
/// <see cref="ScopedPrincipal"/>), and a refusal becomes a problem-details answer — 403 for want of permission, 404 for
/// an item the user cannot see (it is answered exactly as one that does not exist), 400 for a request Core refuses with
/// its reason; anything else is logged and answered 500 with a reference only.
/// </summary>
internal static class ApiServing
{
    /// <summary>How Core words "that item does not exist or you do not have access to it" (missing and forbidden alike).</summary>
    private const string MissingSuffix = "does not exist or you do not have access to it.";

    /// <summary>Runs the group's endpoints as the request's user and turns Core's refusals into problem details.</summary>
    public static RouteGroupBuilder ServedAsUser(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            http.RequestServices.GetRequiredService<ScopedPrincipal>().Principal = http.User;
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
    public static ProblemHttpResult Refusal(PortalException ex) => ex switch
    {
        PermissionDeniedException => TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status403Forbidden, title: "Not allowed"),
        _ when ex.Message.EndsWith(MissingSuffix, StringComparison.Ordinal) => NotFound(ex.Message),
        _ => BadRequest(ex.Message),
    };

    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not found");

    public static ProblemHttpResult BadRequest(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "The request cannot be served");
}
