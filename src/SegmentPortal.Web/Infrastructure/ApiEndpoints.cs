using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Http.Features;
using SegmentPortal.Core.Users;
using SegmentPortal.Core;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Exports;
using SegmentPortal.Core.Import;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Segments;

namespace SegmentPortal.Web.Infrastructure;

public static class ApiEndpoints
{
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/account/logout", async (SignInManager<AppUser> signIn, SegmentPortal.Core.Audit.AuditLog audit, HttpContext http) =>
        {
            if (http.User.Identity?.IsAuthenticated == true)
            {
                await audit.RecordForAsync(http.User.UserId(), http.User.Identity.Name, SegmentPortal.Core.Audit.AuditActions.SignOut, subject: null,
                    address: http.Connection.RemoteIpAddress?.ToString());
            }
            await signIn.SignOutAsync();
            return TypedResults.LocalRedirect("/account/login");
        });
        return endpoints;
    }

    /// <summary>
    /// Where the server's own headless browser starts a board export: a one-time ticket (see <see cref="PrintTickets"/>)
    /// signs that browser in as the user who asked, and it is sent to the board. Anything else gets a plain 404.
    /// </summary>
    public static IEndpointRouteBuilder MapPrintEndpoint(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/print/{ticket}", async (string ticket, PrintTickets tickets, UserManager<AppUser> users, SignInManager<AppUser> signIn,
            SegmentPortal.Core.Audit.AuditLog audit, HttpContext http) =>
        {
            if (tickets.Redeem(ticket) is not { } redeemed || await users.FindByIdAsync(redeemed.UserId) is not { IsDisabled: false } user)
            {
                return Results.NotFound();
            }
            await signIn.SignInAsync(user, isPersistent: false);
            await audit.RecordForAsync(user.Id, user.Email, SegmentPortal.Core.Audit.AuditActions.SignIn, $"Dashboard {redeemed.DashboardId}",
                "The server's export browser, for a board export the user asked for", address: http.Connection.RemoteIpAddress?.ToString());
            return Results.LocalRedirect($"/dashboards/{redeemed.DashboardId}?print=1");
        }).AllowAnonymous();
        return endpoints;
    }

    public const string UploadHeader = "X-SegmentPortal-Upload";

    /// <summary>
    /// Receives one file as the raw request body and streams it to disk. The custom header makes browsers send a CORS
    /// preflight, so another site cannot post files with the user's cookie.
    /// </summary>
    public static IEndpointRouteBuilder MapUploadApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/api/uploads", async (HttpContext http, UploadStore uploads, CancellationToken ct) =>
        {
            if (!http.Request.Headers.ContainsKey(UploadHeader))
            {
                return Results.BadRequest(new { message = "Uploads come from the Data page." });
            }
            var name = http.Request.Query["name"].ToString();
            if (string.IsNullOrWhiteSpace(name))
            {
                return Results.BadRequest(new { message = "The file has no name." });
            }
            if (http.Request.ContentLength is { } length && length > uploads.MaxBytes)
            {
                return Results.Json(new { message = $"{name} is larger than the {UploadStore.FormatBytes(uploads.MaxBytes)} upload limit." },
                    statusCode: StatusCodes.Status413PayloadTooLarge);
            }
            if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = uploads.MaxBytes + 1;
            }
            try
            {
                var upload = await uploads.SaveAsync(http.Request.Body, name, http.User.UserId()!, null, ct);
                return Results.Ok(new { id = upload.Id, fileName = upload.FileName, size = upload.Size });
            }
            catch (PortalException ex)
            {
                return Results.Json(new { message = ex.Message }, statusCode: StatusCodes.Status413PayloadTooLarge);
            }
        }).RequireAuthorization(Permissions.ManageData).DisableAntiforgery();
        return endpoints;
    }

    /// <summary>
    /// Segment members as CSV or Excel, streamed to the browser. The members come through the query layer, so the
    /// permission policy applies; text cells that a spreadsheet would run as formulas are escaped.
    /// </summary>
    public static IEndpointRouteBuilder MapSegmentExports(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/segments/{id:int}/members.{format}", async (int id, string format, HttpContext http, SegmentService segments, AuditLog audit, CancellationToken ct) =>
        {
            if (format is not ("csv" or "xlsx"))
            {
                return Results.NotFound();
            }
            http.RequestServices.GetRequiredService<ScopedPrincipal>().Principal = http.User;
            QueryResult members;
            string name;
            try
            {
                name = (await segments.GetAsync(id, ct)).Segment.Name;
                members = await segments.AllMembersAsync(id, ct);
            }
            catch (PortalException ex)
            {
                return Results.Json(new { message = ex.Message }, statusCode: ex is PermissionDeniedException ? StatusCodes.Status403Forbidden : StatusCodes.Status404NotFound);
            }
            var file = $"{string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is ' ' or '-' or '_' ? c : '_')).Trim()} members.{format}";
            http.Response.ContentType = format == "csv" ? TableExport.CsvContentType : TableExport.XlsxContentType;
            http.Response.Headers.ContentDisposition = new Microsoft.Net.Http.Headers.ContentDispositionHeaderValue("attachment")
            {
                FileNameStar = file,
            }.ToString();
            if (format == "csv")
            {
                await TableExport.WriteCsvAsync(members, http.Response.Body, ct);
            }
            else
            {
                await TableExport.WriteXlsxAsync(members, http.Response.Body, name, ct);
            }
            await audit.RecordAsync(AuditActions.Export, $"Segment {id} “{name}” members", format.ToUpperInvariant(), members.Rows.Count, CancellationToken.None);
            return Results.Empty;
        }).RequireAuthorization(Permissions.ViewData);
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
