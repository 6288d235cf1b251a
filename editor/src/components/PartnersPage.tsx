/** The partners page lives in editor/src/partners/ (its table, forms and dialogs); App.tsx imports it from here. */
export { PartnersPage } from '../partners/PartnersPage.tsx';
