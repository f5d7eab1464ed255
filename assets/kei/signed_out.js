// Loaded by the sign-in, owner-setup and invitation pages (kei_drive/auth_routes.py): the
// previous account's data kept on this phone is forgotten before anyone signs in here.
import { forgetPrivateData } from "./private_data.js";

forgetPrivateData()
  .then(() => document.documentElement.setAttribute("data-device-data", "forgotten"))
  .catch((err) => console.warn("could not forget the previous account's data", err));
