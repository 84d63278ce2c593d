// Dashboard grid: drag a tile by its handle to move it, drag its corner to resize it. The pointer position is turned
// into 12-column grid cells here; the Blazor component decides the layout (pushing other tiles away) and redraws.
export function init(grid, component, rowHeight) {
    let active = null;

    const cell = (e) => {
        const rect = grid.getBoundingClientRect();
        const column = rect.width / 12;
        return {
            x: Math.floor((e.clientX - rect.left) / column),
            y: Math.floor((e.clientY - rect.top) / rowHeight),
            column,
        };
    };

    const down = (e) => {
        const handle = e.target.closest('[data-grid-handle]');
        if (!handle || e.button !== 0) {
            return;
        }
        const tile = handle.closest('[data-tile-id]');
        const rect = tile.getBoundingClientRect();
        const start = cell(e);
        active = {
            mode: handle.dataset.gridHandle,
            id: tile.dataset.tileId,
            tile,
            // Where in the tile the pointer grabbed it, in cells, so the tile does not jump under the pointer.
            offsetX: Math.floor((e.clientX - rect.left) / start.column),
            offsetY: Math.floor((e.clientY - rect.top) / rowHeight),
            x: Number(tile.dataset.x), y: Number(tile.dataset.y), w: Number(tile.dataset.w), h: Number(tile.dataset.h),
        };
        tile.classList.add('tile-dragging');
        handle.setPointerCapture(e.pointerId);
        e.preventDefault();
    };

    const move = (e) => {
        if (!active) {
            return;
        }
        const at = cell(e);
        const style = active.tile.style;
        if (active.mode === 'move') {
            active.x = Math.max(0, Math.min(12 - active.w, at.x - active.offsetX));
            active.y = Math.max(0, at.y - active.offsetY);
            style.gridColumn = `${active.x + 1} / span ${active.w}`;
            style.gridRow = `${active.y + 1} / span ${active.h}`;
        } else {
            const left = Number(active.tile.dataset.x);
            const top = Number(active.tile.dataset.y);
            active.w = Math.max(1, Math.min(12 - left, at.x - left + 1));
            active.h = Math.max(1, Math.min(12, at.y - top + 1));
            style.gridColumn = `${left + 1} / span ${active.w}`;
            style.gridRow = `${top + 1} / span ${active.h}`;
        }
    };

    const up = async () => {
        if (!active) {
            return;
        }
        const done = active;
        active = null;
        done.tile.classList.remove('tile-dragging');
        if (done.mode === 'move') {
            await component.invokeMethodAsync('MoveTile', done.id, done.x, done.y);
        } else {
            await component.invokeMethodAsync('ResizeTile', done.id, done.w, done.h);
        }
    };

    grid.addEventListener('pointerdown', down);
    grid.addEventListener('pointermove', move);
    grid.addEventListener('pointerup', up);
    grid.addEventListener('pointercancel', up);
    return {
        dispose() {
            grid.removeEventListener('pointerdown', down);
            grid.removeEventListener('pointermove', move);
            grid.removeEventListener('pointerup', up);
            grid.removeEventListener('pointercancel', up);
        },
    };
}
