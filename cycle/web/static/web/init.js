// Starts the design system's components. A module script, so it runs only in browsers that the
// design system supports; the classes below switch on its JavaScript-enhanced styles.
import { initAll } from "../nhsuk/nhsuk-frontend.min.js";

document.body.classList.add("js-enabled", "nhsuk-frontend-supported");
initAll();
