// Drop zone: takes files dropped on an element or chosen in a file input, and uploads each one to the server with
// progress, streaming the raw file as the request body. The Blazor component is told about every step.
const uploads = new Map();

export function init(zone, input, component, options) {
    const send = files => {
        for (const file of files) {
            start(file, component, options);
        }
    };
    const over = e => {
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
        zone.classList.add('dropzone-over');
    };
    const leave = () => zone.classList.remove('dropzone-over');
    const drop = e => {
        e.preventDefault();
        leave();
        if (e.dataTransfer && e.dataTransfer.files) {
            send(e.dataTransfer.files);
        }
    };
    const change = () => {
        send(input.files);
        input.value = '';
    };
    zone.addEventListener('dragover', over);
    zone.addEventListener('dragenter', over);
    zone.addEventListener('dragleave', leave);
    zone.addEventListener('drop', drop);
    input.addEventListener('change', change);
    return {
        dispose: () => {
            zone.removeEventListener('dragover', over);
            zone.removeEventListener('dragenter', over);
            zone.removeEventListener('dragleave', leave);
            zone.removeEventListener('drop', drop);
            input.removeEventListener('change', change);
        }
    };
}

export function pick(input) {
    input.click();
}

export function cancel(key) {
    const xhr = uploads.get(key);
    if (xhr) {
        xhr.abort();
    }
}

function start(file, component, options) {
    const key = crypto.randomUUID();
    component.invokeMethodAsync('Started', key, file.name, file.size);
    if (file.size > options.maxBytes) {
        component.invokeMethodAsync('Failed', key, `${file.name} is larger than the ${options.maxText} upload limit.`);
        return;
    }
    const xhr = new XMLHttpRequest();
    uploads.set(key, xhr);
    let last = 0;
    xhr.upload.onprogress = e => {
        const now = Date.now();
        if (now - last > 150 || e.loaded === e.total) {
            last = now;
            component.invokeMethodAsync('Progressed', key, e.loaded);
        }
    };
    xhr.onload = () => {
        uploads.delete(key);
        let body = {};
        try { body = JSON.parse(xhr.responseText || '{}'); } catch { }
        if (xhr.status === 200) {
            component.invokeMethodAsync('Uploaded', key, body.id);
        } else {
            component.invokeMethodAsync('Failed', key, body.message || `The upload of ${file.name} failed (${xhr.status}).`);
        }
    };
    xhr.onerror = () => {
        uploads.delete(key);
        component.invokeMethodAsync('Failed', key, `The upload of ${file.name} was interrupted. Check the connection and try again.`);
    };
    xhr.onabort = () => {
        uploads.delete(key);
        component.invokeMethodAsync('Cancelled', key);
    };
    xhr.open('POST', `${options.url}?name=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader(options.header, '1');
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.send(file);
}
