using Microsoft.JSInterop;

namespace SegmentPortal.Web.Infrastructure;

/// <summary>
/// Hands files made on the server (a tile's CSV, a board's PDF) and Plotly charts to the browser as downloads, through
/// one small JS module (wwwroot/js/download.js).
/// </summary>
public sealed class BrowserFiles(IJSRuntime js)
{
    /// <summary>A file name from a title people typed: letters and digits kept, anything else a dash.</summary>
    public static string FileName(string title, string fallback, string extension)
    {
        var name = string.Concat(title.Select(c => char.IsLetterOrDigit(c) ? c : '-')).Trim('-');
        return $"{(name.Length > 0 ? name : fallback)}.{extension}";
    }

    public async Task SaveAsync(string fileName, string contentType, Stream content)
    {
        await using var module = await js.InvokeAsync<IJSObjectReference>("import", "./js/download.js");
        using var stream = new DotNetStreamReference(content, leaveOpen: true);
        await module.InvokeVoidAsync("save", fileName, contentType, stream);
    }

    /// <summary>Saves the Plotly chart drawn in the element with this id as a PNG; false when there is no chart there.</summary>
    public async Task<bool> SavePlotAsync(string elementId, string fileName)
    {
        await using var module = await js.InvokeAsync<IJSObjectReference>("import", "./js/download.js");
        return await module.InvokeAsync<bool>("savePlot", elementId, Path.GetFileNameWithoutExtension(fileName));
    }
}
