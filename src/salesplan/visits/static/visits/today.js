// Fills the check-in form's position from the phone, when it can say and is allowed to.
document.querySelectorAll("form[data-check-in]").forEach((form) => {
  if (!navigator.geolocation) return;
  navigator.geolocation.getCurrentPosition((where) => {
    form.querySelector("[name=latitude]").value = where.coords.latitude.toFixed(6);
    form.querySelector("[name=longitude]").value = where.coords.longitude.toFixed(6);
  }, () => {}, { maximumAge: 60000, timeout: 5000 });
});
