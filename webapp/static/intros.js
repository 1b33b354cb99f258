// "Text kopieren" on the introduction page: copies the draft (subject and body) to the clipboard.
document.querySelectorAll("button[data-copy]").forEach((button) => {
  if (!navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    const subject = document.getElementById("subject").value;
    const body = document.getElementById(button.dataset.copy).value;
    await navigator.clipboard.writeText(`Betreff: ${subject}\n\n${body}`);
    button.textContent = "Kopiert ✓";
  });
});
