using SegmentPortal.Web.Infrastructure;

// Content root is the build output, where the top-level appsettings.json and wwwroot/ are linked in.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    ContentRootPath = AppContext.BaseDirectory,
});

builder.AddSegmentPortal();

var app = builder.Build();

await app.InitializeSegmentPortalAsync();
app.UseSegmentPortal();

await app.RunAsync();

/// <summary>Visible to WebApplicationFactory in the integration tests.</summary>
public partial class Program;
