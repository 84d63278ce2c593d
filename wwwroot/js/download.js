// Saves bytes the server produced (a tile's CSV or Excel file) as a download in the browser.
export async function save(name, contentType, streamRef) {
    const buffer = await streamRef.arrayBuffer();
    const url = URL.createObjectURL(new Blob([buffer], { type: contentType }));
    const link = document.createElement('a');
    link.href = url;
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// Saves a Plotly chart (the element with this id) as a PNG, with Plotly's own image export.
export async function savePlot(elementId, name) {
    const element = document.getElementById(elementId);
    const plot = element && (element.classList.contains('js-plotly-plot') ? element : element.querySelector('.js-plotly-plot'));
    if (!plot || !window.Plotly) {
        return false;
    }
    await window.Plotly.downloadImage(plot, { format: 'png', filename: name, width: plot.clientWidth, height: plot.clientHeight, scale: 2 });
    return true;
}
