// verifyd console: asks before a form marked data-confirm is sent. The
// console works without it; it only spares a slip of the mouse.
document.addEventListener('submit', (event) => {
  const form = event.target;
  const question = form.getAttribute && form.getAttribute('data-confirm');
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
