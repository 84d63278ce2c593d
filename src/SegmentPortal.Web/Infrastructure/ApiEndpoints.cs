using Microsoft.AspNetCore.Identity;
using SegmentPortal.Core.Identity;

namespace SegmentPortal.Web.Infrastructure;

public static class ApiEndpoints
{
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/account/logout", async (SignInManager<AppUser> signIn) =>
        {
            await signIn.SignOutAsync();
            return TypedResults.LocalRedirect("/account/login");
        });
        return endpoints;
    }

    /// <summary>Admin endpoints: the policy guards the route and the service checks again.</summary>
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/api/admin")
            .RequireAuthorization(Permissions.ManageUsers)
            .AddEndpointFilter(async (context, next) =>
            {
                context.HttpContext.RequestServices.GetRequiredService<ScopedPrincipal>().Principal = context.HttpContext.User;
                return await next(context);
            });
        admin.MapGet("/users", async (UserAdministration users, CancellationToken ct) => TypedResults.Ok(await users.ListAsync(ct)));
        return endpoints;
    }
}
